// unix_dgram ancillary data between our own sockets (the real-peer versions are in
// peers.test.ts): credentials (rinfo.pid/uid/gid), descriptors both ways (sendWithFds,
// rinfo.fds) and who closes them, and datagrams of hundreds of KiB.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { once, outcome, tempDir, withTimeout } from './harness'
import { closeReceived, readReceived } from './received-fds'

/**
 * Descriptors of this process open on a payload file (tempFile): the received ones. Counting
 * only those keeps the runtime's own descriptors (Deno opens and closes caches by itself) out.
 */
function openFds(): number {
  let n = 0
  for (const fd of fs.readdirSync('/proc/self/fd')) {
    try {
      if (fs.readlinkSync(`/proc/self/fd/${fd}`).endsWith('/payload.txt')) n++
    } catch {
      // Closed since the listing.
    }
  }
  return n
}
const qlen = (): number => Number(fs.readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8'))

async function server(options: { passCredentials?: boolean; receiveFds?: boolean } = {}): Promise<{ s: UnixSocket; p: string }> {
  const p = path.join(tempDir(), 'anc.sock')
  const s = createSocket({ type: 'unix_dgram', ...options })
  s.bind(p)
  await once(s, 'listening')
  return { s, p }
}

function next(s: UnixSocket): Promise<[Buffer, UnixRemoteInfo]> {
  return once(s, 'message') as Promise<[Buffer, UnixRemoteInfo]>
}

function sendWithFds(c: UnixSocket, msg: string, fds: number[], p?: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const cb = (err: Error | null, n: number): void => (err ? reject(err) : resolve(n))
    if (p === undefined) c.sendWithFds(msg, fds, cb)
    else c.sendWithFds(msg, fds, p, cb)
  })
}

function tempFile(content: string): string {
  const f = path.join(tempDir(), 'payload.txt')
  fs.writeFileSync(f, content)
  return f
}

const readFd = (fd: number): string => readReceived(fd)

async function settle(cond: () => boolean, what: string): Promise<void> {
  await withTimeout(
    (async () => {
      while (!cond()) await new Promise((r) => setTimeout(r, 10))
    })(),
    10_000,
    what,
  )
}

describe.runIf(process.platform === 'linux')('unix_dgram credentials (Linux)', () => {
  it('passCredentials: rinfo carries the sender pid/uid/gid', async () => {
    const { s, p } = await server({ passCredentials: true })
    const c = createSocket('unix_dgram')
    const got = next(s)
    c.send('who', p)
    const [, rinfo] = await got
    expect(rinfo).toEqual({ address: expect.any(String), size: 3, pid: process.pid, uid: process.getuid!(), gid: process.getgid!() })
    c.close()
    s.close()
  })

  it('setPassCredentials(true/false) on a bound socket turns it on and off', async () => {
    const { s, p } = await server()
    const c = createSocket('unix_dgram')
    c.bind()
    await once(c, 'listening')
    let got = next(s)
    c.send('off', p)
    expect((await got)[1].pid).toBeUndefined()
    s.setPassCredentials(true)
    got = next(s)
    c.send('on', p)
    expect((await got)[1].pid).toBe(process.pid)
    s.setPassCredentials(false)
    got = next(s)
    c.send('off again', p)
    expect((await got)[1]).toEqual({ address: c.address().address, size: 9 })
    c.close()
    s.close()
  })

  it('credentials and descriptors are independent: turning fds off keeps credentials', async () => {
    const { s, p } = await server({ passCredentials: true, receiveFds: true })
    s.setReceiveFds(false)
    const c = createSocket('unix_dgram')
    const got = next(s)
    c.send('creds', p)
    expect((await got)[1].pid).toBe(process.pid)
    c.close()
    s.close()
  })
})

describe('unix_dgram descriptor passing', () => {
  it('sendWithFds → rinfo.fds: the receiver gets its own working descriptor', async () => {
    const { s, p } = await server({ receiveFds: true })
    const file = tempFile('through the socket')
    const fd = fs.openSync(file, 'r')
    const c = createSocket('unix_dgram')
    const got = next(s)
    expect(await sendWithFds(c, 'here', [fd], p)).toBe(4)
    fs.closeSync(fd)
    const [msg, rinfo] = await got
    expect(msg.toString()).toBe('here')
    expect(rinfo.fds).toHaveLength(1)
    const mine = rinfo.fds![0]
    expect(readFd(mine)).toBe('through the socket')
    closeReceived(mine)
    c.close()
    s.close()
  })

  it.runIf(process.platform === 'linux')('received descriptors do not leak into a child process spawned later (close-on-exec)', async () => {
    const { s, p } = await server({ receiveFds: true })
    const fd = fs.openSync(tempFile('secret'), 'r')
    const c = createSocket('unix_dgram')
    const got = next(s)
    await sendWithFds(c, 'fd', [fd], p)
    fs.closeSync(fd)
    const [, rinfo] = await got
    const mine = rinfo.fds![0]
    // The child's own descriptor table, as it sees it after exec.
    const inherited = execFileSync('sh', ['-c', 'ls /proc/$$/fd'], { encoding: 'utf8' }).split('\n').filter(Boolean).map(Number)
    expect(inherited).not.toContain(mine)
    expect(readFd(mine)).toBe('secret')
    closeReceived(mine)
    c.close()
    s.close()
  })

  it('several descriptors in one datagram, on a connected socket, in order', async () => {
    const { s, p } = await server({ receiveFds: true })
    const files = ['one', 'two', 'three'].map((t) => fs.openSync(tempFile(t), 'r'))
    const c = createSocket('unix_dgram')
    c.connect(p)
    await once(c, 'connect')
    const got = next(s)
    await sendWithFds(c, 'three fds', files)
    files.forEach((fd) => fs.closeSync(fd))
    const [, rinfo] = await got
    expect(rinfo.fds!.map(readFd)).toEqual(['one', 'two', 'three'])
    rinfo.fds!.forEach(closeReceived)
    c.close()
    s.close()
  })

  it('a queued sendWithFds carries its own duplicates: the caller may close right after the call', async () => {
    const { s, p } = await server({ receiveFds: true })
    const contents: string[] = []
    s.on('message', (_m, rinfo) => {
      for (const fd of rinfo.fds ?? []) {
        contents.push(readFd(fd))
        closeReceived(fd)
      }
    })
    const c = createSocket('unix_dgram')
    // Fill the receiver's queue (max_dgram_qlen) so the next sends wait in ours.
    let i = 0
    while (c.getSendQueueCount() === 0 && i < 10_000) c.send(`fill ${i++}`, p)
    const fd = fs.openSync(tempFile('queued'), 'r')
    const done = sendWithFds(c, 'with fd', [fd], p)
    expect(c.getSendQueueCount()).toBeGreaterThan(1)
    fs.closeSync(fd)
    await done
    await settle(() => contents.length === 1, 'the descriptor')
    expect(contents).toEqual(['queued'])
    c.close()
    s.close()
  })

  it('descriptors nobody asked for are closed: without receiveFds, and with credentials only', async () => {
    for (const options of [{}, { passCredentials: process.platform === 'linux' }]) {
      const { s, p } = await server(options)
      let received = 0
      s.on('message', (_m, rinfo) => {
        expect(rinfo.fds).toBeUndefined()
        received++
      })
      const c = createSocket('unix_dgram')
      const before = openFds()
      for (let k = 0; k < 20; k++) {
        const fd = fs.openSync(tempFile('x'), 'r')
        await sendWithFds(c, 'unwanted', [fd], p)
        fs.closeSync(fd)
      }
      await settle(() => received === 20, '20 datagrams')
      expect(openFds()).toBe(before)
      c.close()
      s.close()
    }
  })

  it("with receiveFds but no 'message' listener the socket closes what arrives", async () => {
    const { s, p } = await server({ receiveFds: true })
    const c = createSocket('unix_dgram')
    const before = openFds()
    for (let k = 0; k < 20; k++) {
      const fd = fs.openSync(tempFile('x'), 'r')
      await sendWithFds(c, 'nobody listens', [fd], p)
      fs.closeSync(fd)
    }
    // Push plain datagrams behind them until the receiver must have read every one of the 20
    // (its queue holds at most max_dgram_qlen + 1; a send completes only once there is room).
    // No listener was ever added, so all 20 were closed on arrival.
    const fills = Math.min(qlen() + 2, 5000)
    for (let k = 0; k < fills; k++) await new Promise((resolve) => c.send('fill', p, resolve))
    // Closed as each is delivered, which the thread driver paces one per setImmediate.
    await settle(() => openFds() === before, 'the 20 descriptors to be closed')
    expect(openFds()).toBe(before)
    c.close()
    s.close()
  })

  it('closing inside a listener closes the descriptors of the rest of the batch', async () => {
    const { s, p } = await server({ receiveFds: true })
    const c = createSocket('unix_dgram')
    const before = openFds()
    // Queue several datagrams with fds before the receiver reads any (same thread).
    const sends: Promise<number>[] = []
    for (let k = 0; k < 8; k++) {
      const fd = fs.openSync(tempFile('x'), 'r')
      sends.push(sendWithFds(c, `batch ${k}`, [fd], p).finally(() => fs.closeSync(fd)))
    }
    let first: number[] | undefined
    s.on('message', (_m, rinfo) => {
      first = rinfo.fds
      s.close()
    })
    await Promise.all(sends)
    await settle(() => first !== undefined, 'the first datagram')
    closeReceived(first![0])
    await settle(() => openFds() === before, 'descriptors to be closed')
    c.close()
  })

  it('sendWithFds while binding waits for the bind, then carries the descriptor from the bound name', async () => {
    const { s, p } = await server({ receiveFds: true })
    const dir = tempDir()
    const c = createSocket('unix_dgram')
    c.bind(path.join(dir, 'client.sock'))
    const fd = fs.openSync(tempFile('after bind'), 'r')
    const got = next(s)
    const sent = sendWithFds(c, 'bound first', [fd], p)
    const [msg, rinfo] = await got
    expect(await sent).toBe(11)
    fs.closeSync(fd)
    expect([msg.toString(), rinfo.address, readFd(rinfo.fds![0])]).toEqual(['bound first', path.join(dir, 'client.sock'), 'after bind'])
    closeReceived(rinfo.fds![0])
    c.close()
    s.close()
  })

  it('bad descriptor lists are rejected at the call', () => {
    const c = createSocket('unix_dgram')
    const p = '/tmp/nowhere.sock'
    expect(outcome(() => c.sendWithFds('x', 3 as never, p)).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    expect(outcome(() => c.sendWithFds('x', [], p)).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => c.sendWithFds('x', Array(33).fill(0), p)).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => c.sendWithFds('x', [-1], p)).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => c.sendWithFds('x', [1.5], p)).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => c.sendWithFds('x', [0], '')).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    c.close()
    const u = createSocket('udp4')
    expect(outcome(() => (u as unknown as UnixSocket).sendWithFds('x', [0], p)).threw).toMatchObject({ code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' })
    expect(outcome(() => (u as unknown as UnixSocket).setPassCredentials(true)).threw).toMatchObject({ code: 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM' })
    u.close()
  })

  it('every element of fds is read exactly once: what was validated is what is sent', async () => {
    const { s, p } = await server({ receiveFds: true })
    const fd = fs.openSync(tempFile('read once'), 'r')
    const reads: number[] = []
    // A hostile array: the first read of [0] gives a real descriptor, any later read 2 ** 40.
    const hostile = new Proxy([fd], {
      get(target, key, receiver) {
        if (key === '0') {
          reads.push(0)
          return reads.length === 1 ? fd : 2 ** 40
        }
        return Reflect.get(target, key, receiver)
      },
    })
    const c = createSocket('unix_dgram')
    const got = next(s)
    expect(await sendWithFds(c, 'once', hostile, p)).toBe(4)
    fs.closeSync(fd)
    const [, rinfo] = await got
    expect(reads).toEqual([0])
    expect(readFd(rinfo.fds![0])).toBe('read once')
    closeReceived(rinfo.fds![0])
    c.close()
    s.close()
  })

  it('a Proxy around a Buffer is not a path: ERR_INVALID_ARG_TYPE at every call, as node fs says', () => {
    const fake = new Proxy(Buffer.from('/tmp/dgramx-proxy.sock'), {})
    const c = createSocket('unix_dgram')
    const invalid = { code: 'ERR_INVALID_ARG_TYPE' }
    expect(outcome(() => fs.statSync(fake as never)).threw).toMatchObject(invalid)
    expect(outcome(() => c.send('x', fake)).threw).toMatchObject(invalid)
    expect(outcome(() => c.sendWithFds('x', [0], fake)).threw).toMatchObject(invalid)
    expect(outcome(() => c.connect(fake)).threw).toMatchObject(invalid)
    expect(outcome(() => c.bind(fake)).threw).toMatchObject(invalid)
    c.close()
  })

  it('a closed descriptor fails the send with EBADF', async () => {
    const { s, p } = await server({ receiveFds: true })
    const c = createSocket('unix_dgram')
    const fd = fs.openSync(tempFile('x'), 'r')
    fs.closeSync(fd)
    await expect(sendWithFds(c, 'bad', [fd], p)).rejects.toMatchObject({ code: 'EBADF', syscall: 'send' })
    c.close()
    s.close()
  })
})

describe('unix_dgram large datagrams', () => {
  it('datagrams of hundreds of KiB arrive whole once the buffers are raised', async () => {
    const { s, p } = await server()
    // Within Linux's default limits (net.core.wmem_max/rmem_max 212992, doubled by the
    // kernel): the largest datagram a default-limited sender can send is just under 416 KiB.
    s.setRecvBufferSize(1 << 20)
    const c = createSocket('unix_dgram')
    c.setSendBufferSize(1 << 20)
    const sizes = [256 * 1024, 300_000, 415 * 1024, 3]
    const got: [number, UnixRemoteInfo, boolean][] = []
    s.on('message', (m, r) => got.push([m.length, r, m.every((b, i) => b === (i & 0xff))]))
    for (const n of sizes) {
      const b = Buffer.alloc(n)
      for (let i = 0; i < n; i++) b[i] = i & 0xff
      c.send(b, p)
    }
    await settle(() => got.length === sizes.length, 'all sizes')
    expect(got).toEqual(sizes.map((n) => [n, { address: '', size: n }, true]))
    c.close()
    s.close()
  })

  it('a datagram bigger than the send buffer is refused with EMSGSIZE, never cut', async () => {
    const c = createSocket('unix_dgram')
    c.setSendBufferSize(64 * 1024)
    const { s, p } = await server()
    const [err] = await new Promise<unknown[]>((resolve) => c.send(Buffer.alloc(1 << 20), p, (...a: unknown[]) => resolve(a)))
    expect(err).toMatchObject({ code: 'EMSGSIZE', syscall: 'send', address: p })
    c.close()
    s.close()
  })
})
