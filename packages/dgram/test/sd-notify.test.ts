// @dgramx/dgram/sd-notify against our own receivers (systemd-notify and python peers are in
// peers.test.ts). NOTIFY_SOCKET always points at a temp receiver, never a real manager.
import fs from 'node:fs'
import path from 'node:path'
import { afterEach, beforeEach, describe, expect, it } from 'vitest'
import { createSocket, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { formatNotify, notify, notifySocket, watchdogUsec } from '../src/sd-notify'
import { once, tempDir } from './harness'
import { closeReceived, readReceived } from './received-fds'

let saved: string | undefined
beforeEach(() => {
  saved = process.env.NOTIFY_SOCKET
  delete process.env.NOTIFY_SOCKET
})
afterEach(() => {
  if (saved === undefined) delete process.env.NOTIFY_SOCKET
  else process.env.NOTIFY_SOCKET = saved
})

async function manager(name: string): Promise<UnixSocket> {
  const s = createSocket({ type: 'unix_dgram', receiveFds: true, passCredentials: process.platform === 'linux' })
  s.bind(name)
  await once(s, 'listening')
  return s
}

function next(s: UnixSocket): Promise<[Buffer, UnixRemoteInfo]> {
  return once(s, 'message') as Promise<[Buffer, UnixRemoteInfo]>
}

describe('sd-notify', () => {
  it('formatNotify writes the protocol: one KEY=VALUE per line, no trailing newline', () => {
    expect(formatNotify({ ready: true, status: 'up' })).toBe('READY=1\nSTATUS=up')
    expect(
      formatNotify({
        reloading: true,
        stopping: true,
        errno: 2,
        busError: 'org.example.Failed',
        mainPid: 42,
        watchdog: true,
        watchdogUsec: 5_000_000,
        extendTimeoutUsec: 1_000_000,
        fdstore: true,
        fdstoreRemove: true,
        fdname: 'db',
        fdpoll: false,
        extra: { X_CUSTOM: 'yes', NUM: 3 },
      }),
    ).toBe(
      'RELOADING=1\nSTOPPING=1\nERRNO=2\nBUSERROR=org.example.Failed\nMAINPID=42\nWATCHDOG=1\nWATCHDOG_USEC=5000000\nEXTEND_TIMEOUT_USEC=1000000\nFDSTORE=1\nFDSTOREREMOVE=1\nFDNAME=db\nFDPOLL=0\nX_CUSTOM=yes\nNUM=3',
    )
    expect(formatNotify({ watchdog: 'trigger' })).toBe('WATCHDOG=trigger')
    expect(formatNotify('READY=1\nSTATUS=raw')).toBe('READY=1\nSTATUS=raw')
    expect(() => formatNotify({ status: 'two\nlines' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => formatNotify({ mainPid: -1 })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => formatNotify({ extra: { lower: 'x' } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('refuses every character systemd frames by (LF, CR) or drops a datagram for (NUL), in every text field', async () => {
    for (const bad of ['\n', '\r', '\0']) {
      for (const state of [{ status: `x${bad}MAINPID=1` }, { busError: `a${bad}b` }, { fdname: `db${bad}` }, { extra: { X_ONE: `1${bad}STOPPING=1` } }]) {
        expect(() => formatNotify(state), JSON.stringify(state)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
      }
    }
    // The injection from the report: three assignments hidden in one STATUS.
    await expect(notify({ status: 'x\rMAINPID=1\rSTOPPING=1' }, { socketPath: '/nonexistent/notify' })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    // A preformatted string may hold lines, never a NUL (systemd would drop READY=1 with it).
    expect(() => formatNotify('READY=1\nSTATUS=a\0b')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('is a no-op resolving to false when NOTIFY_SOCKET is unset or empty', async () => {
    expect(notifySocket()).toBeUndefined()
    expect(await notify({ ready: true })).toBe(false)
    process.env.NOTIFY_SOCKET = ''
    expect(await notify({ ready: true })).toBe(false)
  })

  // An environment variable cannot hold a NUL, so '\0name' is only possible as socketPath.
  for (const [label, bindName, target, viaEnv] of [
    ['a path', (n: string) => n, (n: string) => n, true],
    ["'@name'", (n: string) => `@${n}`, (n: string) => `@${n}`, true],
    ["'\\0name' (socketPath)", (n: string) => `@${n}`, (n: string) => `\0${n}`, false],
  ] as const) {
    it(`honours NOTIFY_SOCKET given as ${label}`, async () => {
      const base = label === 'a path' ? path.join(tempDir(), 'notify.sock') : `dgramx-notify-${process.pid}-${Date.now()}`
      const s = await manager(bindName(base))
      if (viaEnv) process.env.NOTIFY_SOCKET = target(base)
      const got = next(s)
      expect(await notify({ ready: true, status: 'ok' }, viaEnv ? {} : { socketPath: target(base) })).toBe(true)
      const [msg, rinfo] = await got
      expect(msg.toString()).toBe('READY=1\nSTATUS=ok')
      expect(rinfo.address).toBe('')
      if (process.platform === 'linux') expect(rinfo.pid).toBe(process.pid)
      s.close()
    })
  }

  it('FDSTORE=1 carries the descriptors; without fds it is refused', async () => {
    const dir = tempDir()
    const s = await manager(path.join(dir, 'notify.sock'))
    process.env.NOTIFY_SOCKET = path.join(dir, 'notify.sock')
    const f = path.join(dir, 'state.txt')
    fs.writeFileSync(f, 'stored')
    const fd = fs.openSync(f, 'r')
    const got = next(s)
    expect(await notify({ fdstore: true, fdname: 'state' }, { fds: [fd] })).toBe(true)
    fs.closeSync(fd)
    const [msg, rinfo] = await got
    expect(msg.toString()).toBe('FDSTORE=1\nFDNAME=state')
    expect(rinfo.fds).toHaveLength(1)
    expect(readReceived(rinfo.fds![0], 16)).toBe('stored')
    closeReceived(rinfo.fds![0])
    await expect(notify({ fdstore: true })).rejects.toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    s.close()
  })

  it('unsetEnvironment removes NOTIFY_SOCKET after reading it', async () => {
    const p = path.join(tempDir(), 'n.sock')
    const s = await manager(p)
    process.env.NOTIFY_SOCKET = p
    const got = next(s)
    expect(await notify({ stopping: true }, { unsetEnvironment: true })).toBe(true)
    expect(process.env.NOTIFY_SOCKET).toBeUndefined()
    expect((await got)[0].toString()).toBe('STOPPING=1')
    expect(await notify({ ready: true })).toBe(false)
    s.close()
  })

  it('rejects when the manager is gone, and for sockets it cannot reach (vsock:)', async () => {
    process.env.NOTIFY_SOCKET = path.join(tempDir(), 'gone.sock')
    await expect(notify({ ready: true })).rejects.toMatchObject({ code: 'ENOENT', syscall: 'send' })
    process.env.NOTIFY_SOCKET = 'vsock:2:1234'
    await expect(notify({ ready: true })).rejects.toMatchObject({ code: 'ERR_SD_NOTIFY_UNSUPPORTED_SOCKET' })
  })

  it('watchdogUsec reads WATCHDOG_USEC and WATCHDOG_PID', () => {
    expect(watchdogUsec({})).toBeUndefined()
    expect(watchdogUsec({ WATCHDOG_USEC: '3000000' })).toBe(3_000_000)
    expect(watchdogUsec({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: String(process.pid) })).toBe(3_000_000)
    expect(watchdogUsec({ WATCHDOG_USEC: '3000000', WATCHDOG_PID: '1' })).toBeUndefined()
    expect(watchdogUsec({ WATCHDOG_USEC: 'soon' })).toBeUndefined()
  })
})
