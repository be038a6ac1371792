// socketpair(): two connected unnamed unix_dgram sockets in one call, either of which can go to
// a child process (child_process stdio, then bind({ fd }) there), descriptors passing over it.

import { spawn } from 'node:child_process'
import { once } from 'node:events'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, promises, socketpair, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { builtPackage } from './child'
import { tempDir, withTimeout } from './harness'
import { timeScale } from './time-scale'

// Windows has no unix_dgram sockets: there the one test is that socketpair() says so.
const unixOnly = process.platform === 'win32' ? describe.skip : describe

it.runIf(process.platform === 'win32')('on Windows socketpair() fails up front with the unix_dgram code', () => {
  expect(() => socketpair()).toThrow(expect.objectContaining({ code: 'ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED' }))
})

function nextMessage(s: UnixSocket): Promise<[Buffer, UnixRemoteInfo]> {
  return withTimeout(once(s, 'message') as Promise<[Buffer, UnixRemoteInfo]>, 5000, 'message')
}

unixOnly('socketpair()', () => {
  it('gives two connected, unnamed, listening sockets; datagrams go both ways, boundaries kept', async () => {
    const [a, b] = socketpair()
    expect(a.address()).toEqual({ address: '' })
    expect(a.remoteAddress()).toEqual({ address: '' })
    expect(b.remoteAddress()).toEqual({ address: '' })
    // Already bound and connected: a second bind or connect is refused, as after bind()/connect().
    expect(() => a.bind()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_ALREADY_BOUND' }))
    expect(() => a.connect('/nowhere')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }))
    // Connected: no path on send.
    expect(() => a.send('x', '/nowhere')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }))
    const got: string[] = []
    b.on('message', (msg, rinfo) => {
      got.push(String(msg))
      expect(rinfo).toEqual({ address: '', size: msg.length })
    })
    await promises.send(a, 'one')
    await promises.send(a, Buffer.from('two, longer'))
    await promises.send(a, '')
    const reply = nextMessage(a)
    await promises.send(b, 'back')
    expect(String((await reply)[0])).toBe('back')
    for (let i = 0; i < 200 * timeScale && got.length < 3; i++) await new Promise((r) => setTimeout(r, 5))
    expect(got).toEqual(['one', 'two, longer', ''])
    a.close()
    b.close()
  })

  it('takes the unix_dgram options for both ends (descriptor options included)', async () => {
    const [a, b] = socketpair({ passCredentials: process.platform === 'linux', receiveFds: true, sendQueueLimit: { datagrams: 4 } })
    const got = nextMessage(b)
    a.send('hi')
    const [, rinfo] = await got
    if (process.platform === 'linux') expect(rinfo).toMatchObject({ pid: process.pid, uid: process.getuid!(), gid: process.getgid!() })
    a.close()
    b.close()
  })

  it('passes descriptors over the pair: the receiver reads the file through its own copy', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'payload.txt')
    fs.writeFileSync(file, 'through the pair')
    const [a, b] = socketpair({ receiveFds: true })
    const fd = fs.openSync(file, 'r')
    const got = nextMessage(b)
    await new Promise<void>((resolve, reject) => a.sendWithFds('file', [fd], (err) => (err ? reject(err) : resolve())))
    fs.closeSync(fd)
    const [msg, rinfo] = await got
    expect(String(msg)).toBe('file')
    expect(rinfo.fds).toHaveLength(1)
    const copy = rinfo.fds![0]
    const buf = Buffer.alloc(64)
    const n = fs.readSync(copy, buf, 0, buf.length, 0)
    expect(buf.subarray(0, n).toString()).toBe('through the pair')
    fs.closeSync(copy)
    a.close()
    b.close()
  })

  it('close: each end closes on its own; sending to a closed peer fails; close releases the descriptor', async () => {
    const [a, b] = socketpair()
    const fdA = a.fileno()
    expect(fs.fstatSync(fdA).isSocket()).toBe(true)
    let bClosed = false
    b.on('close', () => (bClosed = true))
    a.close()
    // The descriptor is closed at once (checked before anything else can run and reuse the number).
    expect(() => fs.fstatSync(fdA)).toThrow(expect.objectContaining({ code: 'EBADF' }))
    await once(a, 'close')
    expect(bClosed).toBe(false)
    // The peer is gone: Linux says ECONNREFUSED, the BSDs and macOS EPIPE / ENOTCONN.
    const err = await promises.send(b, 'anyone?').then(
      () => null,
      (e: NodeJS.ErrnoException) => e,
    )
    expect(err).toMatchObject({ code: expect.stringMatching(/^(ECONNREFUSED|EPIPE|ENOTCONN|ECONNRESET)$/), syscall: 'send' })
    // Still open: its own options and address work until it closes.
    expect(b.address()).toEqual({ address: '' })
    b.close()
    await once(b, 'close')
    expect(bClosed).toBe(true)
    expect(() => b.fileno()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })

  it('async iteration over an end yields what the other sends, typed as unix datagrams', async () => {
    const [a, b] = socketpair()
    for (const w of ['x', 'y', 'z']) a.send(w)
    const seen: string[] = []
    for await (const { msg, rinfo } of b) {
      seen.push(`${msg}:${rinfo.address}`)
      if (seen.length === 3) break
    }
    expect(seen).toEqual(['x:', 'y:', 'z:'])
    a.close()
    b.close()
  })

  it('one end goes to a child process through stdio; a second pair passes to it as a descriptor', async () => {
    const [parent, child] = socketpair({ receiveFds: true })
    const [near, far] = socketpair()
    const script = `
      const dgram = require(${JSON.stringify(builtPackage)});
      // fd 3 is the pair's end the parent handed over as stdio.
      // passCredentials set at creation holds for the adopted descriptor too (Linux).
      const s = dgram.createSocket({ type: 'unix_dgram', receiveFds: true, passCredentials: process.platform === 'linux' });
      s.bind({ fd: 3 });
      // Credentials are attached at send time: the parent waits for this before sending.
      s.send('ready');
      s.on('message', (msg, rinfo) => {
        if (String(msg) === 'adopt') {
          // A second socket, received as a descriptor over the first, adopted with bind({ fd }).
          const t = dgram.createSocket('unix_dgram');
          t.bind({ fd: rinfo.fds[0] });
          t.send('hello from the adopted end', () => {
            t.close();
            s.send('done', () => s.close());
          });
          return;
        }
        s.send(String(msg).toUpperCase() + ' ' + process.pid + ' from ' + (rinfo.pid ?? 'unknown'));
      });
    `
    const proc = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'inherit', 'inherit', child.fileno()] })
    // The child has its own copy now; ours goes, so the pair ends when the child's does.
    child.close()
    try {
      expect(String((await nextMessage(parent))[0])).toBe('ready')
      const reply = nextMessage(parent)
      parent.send('hello')
      const [msg] = await reply
      expect(String(msg)).toBe(`HELLO ${proc.pid} from ${process.platform === 'linux' ? process.pid : 'unknown'}`)

      const fromAdopted = nextMessage(near)
      const done = nextMessage(parent)
      await new Promise<void>((resolve, reject) => parent.sendWithFds('adopt', [far.fileno()], (err) => (err ? reject(err) : resolve())))
      far.close()
      expect(String((await fromAdopted)[0])).toBe('hello from the adopted end')
      expect(String((await done)[0])).toBe('done')
      const [code] = await withTimeout(once(proc, 'exit') as Promise<[number | null]>, 10_000, 'child exit')
      expect(code).toBe(0)
      // The child's end is closed and ours was too: nobody is left to receive.
      await expect(promises.send(parent, 'gone?')).rejects.toMatchObject({ syscall: 'send' })
    } finally {
      if (proc.exitCode === null) proc.kill()
      parent.close()
      near.close()
    }
  }, 30_000 * timeScale)

  it('a socketpair end is a unix_dgram socket like any other (createSocket type, sendMany)', async () => {
    const [a, b] = socketpair()
    expect((a as unknown as { type: string }).type).toBe('unix_dgram')
    const seen: string[] = []
    b.on('message', (m) => seen.push(String(m)))
    await new Promise<void>((resolve, reject) => a.sendMany(['1', '2', '3'], (err) => (err ? reject(err) : resolve())))
    for (let i = 0; i < 100 && seen.length < 3; i++) await new Promise((r) => setTimeout(r, 10))
    expect(seen).toEqual(['1', '2', '3'])
    const plain = createSocket('unix_dgram')
    expect(Object.getPrototypeOf(plain)).toBe(Object.getPrototypeOf(a))
    plain.close()
    a.close()
    b.close()
  })
})
