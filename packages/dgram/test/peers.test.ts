// unix_dgram against real peers that are not us: logger(1) (util-linux), socat, a python3
// AF_UNIX SOCK_DGRAM peer, and systemd-notify. The suite's global setup installs them when it can;
// a tool still missing skips its describe block with a banner (requirements.ts).
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { notify } from '../src/sd-notify'
import { createSyslog } from '../src/syslog'
import { once, tempDir, withTimeout } from './harness'
import { run, startPeer } from './peers'
import { lacks } from './lacks'
import { closeReceived, readReceived } from './received-fds'

const PY = path.join(__dirname, 'fixtures', 'unix_peer.py')
let seq = 0
const abstractName = (): string => `dgramx-peer-${process.pid}-${Date.now()}-${seq++}`

async function receiver(name: string, options: { passCredentials?: boolean; receiveFds?: boolean } = {}): Promise<UnixSocket> {
  const s = createSocket({ type: 'unix_dgram', ...options })
  s.bind(name)
  await once(s, 'listening')
  return s
}

function collect(s: UnixSocket, n: number, what = `${n} datagrams`): Promise<[string, UnixRemoteInfo][]> {
  const got: [string, UnixRemoteInfo][] = []
  return withTimeout(
    new Promise((resolve) =>
      s.on('message', (m, r) => {
        if (got.push([m.toString(), r]) === n) resolve(got)
      }),
    ),
    15_000,
    what,
  )
}

/** Sends until the peer's socket exists and accepts (it binds after it starts). */
async function sendWhenReady(s: UnixSocket, msg: string | Buffer, to: string): Promise<void> {
  for (let attempt = 0; attempt < 500; attempt++) {
    const err = await new Promise<Error | null>((resolve) => s.send(msg, to, (e) => resolve(e)))
    if (err === null) return
    if (!['ENOENT', 'ECONNREFUSED'].includes((err as NodeJS.ErrnoException).code!)) throw err
    await new Promise((r) => setTimeout(r, 20))
  }
  throw new Error(`${to} never accepted a datagram`)
}

describe.skipIf(lacks('logger'))('logger(1) → our socket', () => {
  it('RFC 3164 and RFC 5424 messages arrive whole, with the PRI for facility/severity', async () => {
    const p = path.join(tempDir(), 'log.sock')
    const s = await receiver(p, { passCredentials: process.platform === 'linux' })
    const got = collect(s, 3)
    const base = ['--socket', p, '--socket-errors=on', '-d', '-t', 'dgramx-test']
    expect((await run('logger', [...base, '--rfc3164', '-p', 'local3.warning', 'hello 3164'])).code).toBe(0)
    expect((await run('logger', [...base, '--rfc5424', '--msgid', 'MID42', '-p', 'daemon.err', 'hello 5424'])).code).toBe(0)
    expect((await run('logger', [...base, '--rfc5424', '--sd-id', 'zoo@123', '--sd-param', 'tiger="hungry"', '-p', 'user.info', 'with sd'])).code).toBe(0)
    const [[m3164, r3164], [m5424], [mSd]] = await got
    // local3 (19) * 8 + warning (4) = 156; daemon (3) * 8 + err (3) = 27; user.info = 14.
    expect(m3164).toMatch(/^<156>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ dgramx-test: hello 3164$/)
    expect(m5424).toMatch(/^<27>1 \d{4}-\d\d-\d\dT\S+ \S+ dgramx-test - MID42 \[timeQuality [^\]]*\] hello 5424$/)
    expect(mSd).toMatch(/^<14>1 \S+ \S+ dgramx-test - - \[timeQuality [^\]]*\]\[zoo@123 tiger="hungry"\] with sd$/)
    // The sender is logger's own unnamed socket, and the kernel vouches for who it is.
    expect(r3164.address).toBe('')
    if (process.platform === 'linux') expect(r3164).toMatchObject({ uid: process.getuid!(), gid: process.getgid!(), pid: expect.any(Number) })
    s.close()
  })

  it('logger and our syslog sender frame the same message the same way (both RFCs)', async () => {
    const p = path.join(tempDir(), 'log.sock')
    const s = await receiver(p)
    const got = collect(s, 4)
    const hostname = 'testhost'
    const base = ['--socket', p, '--socket-errors=on', '-d', '-t', 'app', '-p', 'local0.notice']
    await run('logger', [...base, '--rfc3164', 'same words'])
    await run('logger', [...base, '--rfc5424=notq', '--msgid', 'M1', 'same words'])
    const ours3164 = createSyslog({ path: p, format: 'rfc3164', facility: 'local0', appName: 'app', pid: false })
    const ours5424 = createSyslog({ path: p, format: 'rfc5424', facility: 'local0', appName: 'app', pid: false, hostname, msgId: 'M1' })
    await ours3164.notice('same words')
    await ours5424.notice('same words')
    ours3164.close()
    ours5424.close()
    const [[l3164], [l5424], [o3164], [o5424]] = await got
    // Equal once the timestamp and host name, which differ by nature, are masked.
    const mask3164 = (m: string): string => m.replace(/^(<\d+>)[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d \S+ /, '$1TIME HOST ')
    const mask5424 = (m: string): string => m.replace(/^(<\d+>1) \S+ \S+ /, '$1 TIME HOST ')
    expect(mask3164(o3164)).toBe(mask3164(l3164))
    expect(mask5424(o5424)).toBe(mask5424(l5424))
    expect(mask3164(o3164)).toBe('<133>TIME HOST app: same words')
    expect(mask5424(o5424)).toBe('<133>1 TIME HOST app - M1 - same words')
    s.close()
  })
})

describe.skipIf(lacks('socat'))('socat', () => {
  it('socat as sender (file path, bound client): rinfo names it and our reply reaches it', async () => {
    const dir = tempDir()
    const ours = path.join(dir, 'ours.sock')
    const theirs = path.join(dir, 'theirs.sock')
    const s = await receiver(ours)
    s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo: '), m]), r.address))
    const got = once(s, 'message')
    // socat sends stdin's line, then prints what comes back to its bound socket.
    const peer = startPeer('socat', ['-t', '5', '-', `UNIX-SENDTO:${ours},bind=${theirs}`], { input: undefined })
    peer.child.stdin.write('from socat\n')
    const [msg, rinfo] = (await got) as [Buffer, UnixRemoteInfo]
    expect(msg.toString()).toBe('from socat\n')
    expect(rinfo.address).toBe(theirs)
    await peer.line('echo: from socat')
    peer.kill()
    s.close()
  })

  it('socat as sender with abstract names on both ends (ABSTRACT-SENDTO, bind=)', async () => {
    const name = abstractName()
    const s = await receiver(`@${name}`)
    s.on('message', (m, r) => s.send(Buffer.concat([Buffer.from('echo: '), m]), r.address))
    const got = once(s, 'message')
    const peer = startPeer('socat', ['-t', '5', '-', `ABSTRACT-SENDTO:${name},bind=${name}-socat`])
    peer.child.stdin.write('abstract hello\n')
    const [, rinfo] = (await got) as [Buffer, UnixRemoteInfo]
    expect(rinfo.address).toBe(`\0${name}-socat`)
    await peer.line('echo: abstract hello')
    peer.kill()
    s.close()
  })

  it('socat as an unnamed sender: rinfo.address is empty', async () => {
    const p = path.join(tempDir(), 'ours.sock')
    const s = await receiver(p)
    const got = once(s, 'message')
    expect((await run('socat', ['-u', '-', `UNIX-SENDTO:${p}`], { input: 'anonymous' })).code).toBe(0)
    const [msg, rinfo] = (await got) as [Buffer, UnixRemoteInfo]
    expect([msg.toString(), rinfo]).toEqual(['anonymous', { address: '', size: 9 }])
    s.close()
  })

  it('socat as receiver: a file path and an abstract name get our datagrams intact', async () => {
    const p = path.join(tempDir(), 'socat.sock')
    const name = abstractName()
    const onPath = startPeer('socat', ['-u', `UNIX-RECV:${p}`, '-'])
    const onAbstract = startPeer('socat', ['-u', `ABSTRACT-RECV:${name}`, '-'])
    const c = createSocket('unix_dgram')
    await sendWhenReady(c, 'to the path\n', p)
    await sendWhenReady(c, 'to the abstract name\n', `@${name}`)
    await onPath.line('to the path')
    await onAbstract.line('to the abstract name')
    onPath.kill()
    onAbstract.kill()
    c.close()
  })

  it('socat replies (UNIX-RECVFROM) to our bound name: path and abstract', async () => {
    for (const ownName of [path.join(tempDir(), 'me.sock'), `\0${abstractName()}`]) {
      const dir = tempDir()
      const theirs = path.join(dir, 'echo.sock')
      const peer = startPeer('socat', [`UNIX-RECVFROM:${theirs}`, 'SYSTEM:cat'])
      const me = await receiver(ownName)
      const back = once(me, 'message')
      await sendWhenReady(me, 'bounce', theirs)
      const [msg, rinfo] = (await back) as [Buffer, UnixRemoteInfo]
      expect(msg.toString()).toBe('bounce')
      expect(rinfo.address).toBe(theirs)
      peer.kill()
      me.close()
    }
  })
})

describe.runIf(process.platform === 'linux' && !lacks('python3'))('python3 AF_UNIX SOCK_DGRAM peer', () => {
  it('python → us: credentials identify the python process', async () => {
    const p = path.join(tempDir(), 'ours.sock')
    const s = await receiver(p, { passCredentials: true })
    const got = once(s, 'message')
    const py = await run('python3', [PY, 'send', p, 'creds please'])
    expect(py.code).toBe(0)
    const sent = JSON.parse(py.stdout.trim())
    const [msg, rinfo] = (await got) as [Buffer, UnixRemoteInfo]
    expect(msg.toString()).toBe('creds please')
    expect(rinfo).toEqual({ address: '', size: 12, pid: sent.pid, uid: sent.uid, gid: sent.gid })
    s.close()
  })

  it('us → python: python sees our pid/uid/gid (SO_PASSCRED on its side) and our bound name', async () => {
    const name = abstractName()
    const py = startPeer('python3', [PY, 'recv', `@${name}`, '2'])
    await py.line(/"ready": true/)
    const c = createSocket('unix_dgram')
    await new Promise<void>((resolve, reject) => c.send('unnamed', `@${name}`, (e) => (e ? reject(e) : resolve())))
    // Linux reports the sender's name as it is when the datagram is read, so bind only after
    // python has read the first one.
    const first = JSON.parse(await py.line(/"data": "unnamed"/))
    c.bind(`@${name}-us`)
    await once(c, 'listening')
    await new Promise<void>((resolve, reject) => c.send('named', `\0${name}`, (e) => (e ? reject(e) : resolve())))
    const second = JSON.parse(await py.line(/"data": "named"/))
    expect(first).toEqual({ data: 'unnamed', size: 7, address: '', pid: process.pid, uid: process.getuid!(), gid: process.getgid!() })
    expect(second).toMatchObject({ data: 'named', address: `\0${name}-us`, pid: process.pid })
    py.kill()
    c.close()
  })

  it('python → us: a descriptor (socket.send_fds) arrives in rinfo.fds and reads the file', async () => {
    const dir = tempDir()
    const p = path.join(dir, 'ours.sock')
    const file = path.join(dir, 'from-python.txt')
    fs.writeFileSync(file, 'opened by python')
    const s = await receiver(p, { receiveFds: true })
    const got = once(s, 'message')
    expect((await run('python3', [PY, 'send', p, 'have an fd', file])).code).toBe(0)
    const [msg, rinfo] = (await got) as [Buffer, UnixRemoteInfo]
    expect(msg.toString()).toBe('have an fd')
    expect(rinfo.fds).toHaveLength(1)
    expect(readReceived(rinfo.fds![0], 64)).toBe('opened by python')
    closeReceived(rinfo.fds![0])
    s.close()
  })

  it('us → python: sendWithFds hands python working descriptors (socket.recvmsg SCM_RIGHTS)', async () => {
    const dir = tempDir()
    const theirs = path.join(dir, 'py.sock')
    const files = ['first file', 'second file'].map((text, i) => {
      const f = path.join(dir, `f${i}.txt`)
      fs.writeFileSync(f, text)
      return fs.openSync(f, 'r')
    })
    const py = startPeer('python3', [PY, 'recv', theirs, '1'])
    await py.line(/"ready": true/)
    const c = createSocket('unix_dgram')
    await new Promise<void>((resolve, reject) => c.sendWithFds('two fds', files, theirs, (e) => (e ? reject(e) : resolve())))
    files.forEach((fd) => fs.closeSync(fd))
    const got = JSON.parse(await py.line(/"data": "two fds"/))
    expect(got).toMatchObject({ data: 'two fds', fds: ['first file', 'second file'], pid: process.pid })
    py.kill()
    c.close()
  })

  // Sizes stay within Linux's default limits (net.core.wmem_max 212992, so a send buffer of
  // 425984 bytes at most): these tests need no sysctl changes. This is the only test in this
  // file that raises a receive buffer, and the native receive slots only ever grow, so the
  // truncation half runs first.
  it('python → us: a datagram larger than our receive slots is reported truncated; raised, it arrives whole', async () => {
    const p = path.join(tempDir(), 'big.sock')
    const s = await receiver(p)
    const size = 400 * 1024
    const got: [number, UnixRemoteInfo, boolean][] = []
    s.on('message', (m, r) => got.push([m.length, r, m.every((b, i) => b === (i & 0xff))]))
    const settle = (n: number): Promise<void> =>
      withTimeout(
        (async () => {
          while (got.length < n) await new Promise((r) => setTimeout(r, 10))
        })(),
        15_000,
        `${n} big datagrams`,
      )
    expect(await run('python3', [PY, 'big', p, String(size), '200000'])).toMatchObject({ code: 0 })
    await settle(2)
    // The default receive slot (256 KiB) holds the 200,000 bytes but not the 400 KiB: what
    // fit is delivered, flagged, with the real size.
    const [cutLength, cut, cutIntact] = got[0]
    expect(cut).toEqual({ address: '', size, truncated: true })
    expect(cutLength).toBeLessThan(size)
    expect(cutLength).toBeGreaterThan(0)
    expect(cutIntact).toBe(true)
    expect(got[1]).toEqual([200_000, { address: '', size: 200_000 }, true])
    s.setRecvBufferSize(1 << 20)
    expect(await run('python3', [PY, 'big', p, String(size)])).toMatchObject({ code: 0 })
    await settle(3)
    expect(got[2]).toEqual([size, { address: '', size }, true])
    s.close()
  })

  it('python echoes to rinfo-style sender addresses: our autobound name round-trips', async () => {
    const theirs = path.join(tempDir(), 'py-echo.sock')
    const py = startPeer('python3', [PY, 'echo', theirs, '1'])
    await py.line(/"ready": true/)
    const c = createSocket('unix_dgram')
    c.bind()
    await once(c, 'listening')
    const back = once(c, 'message')
    c.send('autobound', theirs)
    const [msg, rinfo] = (await back) as [Buffer, UnixRemoteInfo]
    expect([msg.toString(), rinfo.address]).toEqual(['autobound', theirs])
    const echoed = JSON.parse(await py.line(/"echoed"/))
    expect(echoed.to).toBe(c.address().address)
    py.kill()
    c.close()
  })
})

describe.runIf(process.platform === 'linux' && !lacks('systemd-notify', 'python3'))('systemd-notify → our receiver (and our notify → python)', () => {
  /**
   * A NOTIFY_SOCKET receiver as systemd runs it: credentials on, descriptors accepted; it
   * answers systemd-notify's BARRIER=1 by closing the descriptor that came with it.
   */
  async function notifyReceiver(name: string): Promise<{ s: UnixSocket; messages: [string, UnixRemoteInfo][] }> {
    const s = await receiver(name, { passCredentials: true, receiveFds: true })
    const messages: [string, UnixRemoteInfo][] = []
    s.on('message', (m, r) => {
      messages.push([m.toString(), r])
      for (const fd of r.fds ?? []) closeReceived(fd)
    })
    return { s, messages }
  }

  for (const [label, spell] of [
    ['a file path', (dir: string) => path.join(dir, 'notify.sock')],
    ["an abstract name ('@name')", () => `@${abstractName()}`],
  ] as const) {
    it(`systemd-notify --ready --status reaches NOTIFY_SOCKET at ${label}; its barrier completes`, async () => {
      const target = spell(tempDir())
      const { s, messages } = await notifyReceiver(target)
      const result = await run('systemd-notify', ['--ready', '--status=serving from dgramx'], { env: { ...process.env, NOTIFY_SOCKET: target } })
      // It exits 0 only if its BARRIER=1 descriptor was closed by us, the receiver.
      expect(result).toMatchObject({ code: 0, stderr: '' })
      const texts = messages.map(([m]) => m)
      expect(texts[0]).toBe('READY=1\nSTATUS=serving from dgramx')
      const barrier = messages.find(([m]) => m === 'BARRIER=1')
      if (barrier !== undefined) expect(barrier[1].fds).toHaveLength(1)
      expect(messages[0][1]).toMatchObject({ uid: process.getuid!(), pid: expect.any(Number) })
      s.close()
    })
  }

  it('our notify() sends the same datagram systemd-notify does, with FDSTORE fds, to a python receiver', async () => {
    const dir = tempDir()
    const target = path.join(dir, 'py-notify.sock')
    const stored = path.join(dir, 'stored.txt')
    fs.writeFileSync(stored, 'keep me')
    const py = startPeer('python3', [PY, 'recv', target, '2'])
    await py.line(/"ready": true/)
    const env = { ...process.env, NOTIFY_SOCKET: target }
    expect(await notify({ ready: true, status: 'serving from dgramx' }, { socketPath: env.NOTIFY_SOCKET })).toBe(true)
    const fd = fs.openSync(stored, 'r')
    expect(await notify({ fdstore: true, fdname: 'state' }, { socketPath: target, fds: [fd] })).toBe(true)
    fs.closeSync(fd)
    const first = JSON.parse(await py.line(/READY=1/))
    const second = JSON.parse(await py.line(/FDSTORE=1/))
    expect(first).toMatchObject({ data: 'READY=1\nSTATUS=serving from dgramx', address: '', pid: process.pid })
    expect(second).toMatchObject({ data: 'FDSTORE=1\nFDNAME=state', fds: ['keep me'] })
    py.kill()
  })
})
