// @dgramx/unix-dgram against the API of the npm package unix-dgram, and against its main
// user: the real hot-shots from npm, whose `uds` protocol loads `unix-dgram` (resolved to
// this package through the workspace override, as users alias it).

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { createSocket as dgramxCreateSocket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import * as unix from '../index'

// eslint-disable-next-line @typescript-eslint/no-require-imports
const StatsD = require('hot-shots') as new (options: Record<string, unknown>) => {
  increment(name: string, value?: number, tags?: string[]): void
  gauge(name: string, value: number, tags?: string[]): void
  histogram(name: string, value: number, tags?: string[]): void
  close(cb?: (err?: Error) => void): void
  socket: { send?: unknown }
}

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-ud-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0
const sockPath = (): string => path.join(tmp, `s${n++}.sock`)

function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms)
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer)
      resolve(args as T)
    })
  })
}

/** A receiver that collects datagrams as strings. */
async function receiver(): Promise<{ path: string; lines: string[]; close(): void; socket: ReturnType<typeof dgramxCreateSocket> }> {
  const where = sockPath()
  const socket = dgramxCreateSocket('unix_dgram')
  const lines: string[] = []
  socket.on('message', (msg) => lines.push(String(msg)))
  socket.bind(where)
  await next(socket, 'listening')
  return { path: where, lines, close: () => socket.close(), socket }
}

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

/** Records events in order, with markers the test adds between calls. */
function recorder(s: NodeJS.EventEmitter, events: string[]): string[] {
  const log: string[] = []
  for (const e of events) s.on(e, (...a: unknown[]) => log.push(e === 'error' ? `error ${(a[0] as Error).message}` : e))
  return log
}

const errno = os.constants.errno

describe('the unix-dgram contract: synchronous calls', () => {
  it('createSocket: unix_dgram sockets with an fd; udp4/udp6 from @dgramx/dgram; anything else throws as unix-dgram', () => {
    const s = unix.createSocket('unix_dgram')
    expect(s).toBeInstanceOf(unix.Socket)
    expect(s.type).toBe('unix_dgram')
    expect(Number.isInteger(s.fd) && s.fd >= 0).toBe(true)
    s.close()
    expect(s.fd).toBe(-1)
    const u = unix.createSocket('udp4')
    expect(typeof u.setTTL).toBe('function')
    u.close()
    expect(() => unix.createSocket('tcp' as never)).toThrow('Unsupported socket type: tcp')
  })

  it("bind(path): bound and 'listening' emitted before bind() returns", () => {
    const s = unix.createSocket('unix_dgram')
    const log = recorder(s, ['listening', 'error'])
    const where = sockPath()
    s.bind(where)
    log.push('returned')
    expect(log).toEqual(['listening', 'returned'])
    expect(fs.statSync(where).isSocket()).toBe(true)
    expect(s.address()).toEqual({ address: where })
    s.close()
  })

  it("a failed bind emits 'error' inside the call: message 'bind <errno>', code = errno = the negative errno", () => {
    const taken = sockPath()
    fs.writeFileSync(taken, 'not a socket')
    const s = unix.createSocket('unix_dgram')
    const errs: unix.UnixDgramError[] = []
    s.on('error', (e) => errs.push(e))
    s.bind(taken)
    expect(errs).toHaveLength(1)
    expect(errs[0].message).toBe(`bind ${-errno.EADDRINUSE}`)
    expect(errs[0].code).toBe(-errno.EADDRINUSE)
    expect(errs[0].errno).toBe(-errno.EADDRINUSE)
    expect(errs[0].syscall).toBe('bind')
    // unix-dgram never touches the file system: the file is still there.
    expect(fs.readFileSync(taken, 'utf8')).toBe('not a socket')
    // A second bind on a bound socket is the kernel's EINVAL.
    const where = sockPath()
    s.bind(where)
    s.bind(sockPath())
    expect(errs.map((e) => e.code)).toEqual([-errno.EADDRINUSE, -errno.EINVAL])
    s.close()
    // Nor does close remove the socket file (unix-dgram's README says so).
    expect(fs.statSync(where).isSocket()).toBe(true)
  })

  it("without an 'error' listener a failed bind or connect throws from the call (EventEmitter), as unix-dgram's do", () => {
    const s = unix.createSocket('unix_dgram')
    expect(() => s.connect(path.join(tmp, 'nobody.sock'))).toThrow(`connect ${-errno.ENOENT}`)
    expect(() => s.bind(path.join(tmp, 'no-dir', 'x.sock'))).toThrow(`bind ${-errno.ENOENT}`)
    s.close()
  })

  it("bind then connect in the same tick (unix-dgram's tests do): 'connect' inside connect(), and the first send arrives", async () => {
    const where = sockPath()
    const got: string[] = []
    const server = unix.createSocket('unix_dgram', (buf) => got.push(String(buf)))
    server.bind(where)
    const client = unix.createSocket('unix_dgram')
    const log = recorder(client, ['connect', 'error'])
    expect(client.connected).toBeFalsy()
    client.connect(where)
    log.push('returned')
    expect(log).toEqual(['connect', 'returned'])
    expect(client.connected).toBe(true)
    const args: unknown[][] = []
    client.send(Buffer.from('first'), (...a: unknown[]) => args.push(a))
    // The callback ran inside send(), with no arguments.
    expect(args).toEqual([[]])
    await until(() => got.length === 1, 'the datagram')
    expect(got).toEqual(['first'])
    client.close()
    server.close()
  })

  it('connect() again re-targets the socket', async () => {
    const a: string[] = []
    const b: string[] = []
    const pa = sockPath()
    const pb = sockPath()
    const sa = unix.createSocket('unix_dgram', (buf) => a.push(String(buf)))
    const sb = unix.createSocket('unix_dgram', (buf) => b.push(String(buf)))
    sa.bind(pa)
    sb.bind(pb)
    const c = unix.createSocket('unix_dgram')
    c.connect(pa)
    c.send(Buffer.from('to a'))
    c.connect(pb)
    c.send(Buffer.from('to b'))
    await until(() => a.length === 1 && b.length === 1, 'both datagrams')
    expect([a, b]).toEqual([['to a'], ['to b']])
    for (const s of [c, sa, sb]) s.close()
  })

  it("send(buf, offset, length, path): sends the slice; the callback or 'error' comes inside the call", async () => {
    const where = sockPath()
    const got: [string, unix.RemoteInfo][] = []
    const server = unix.createSocket('unix_dgram', (buf, rinfo) => got.push([String(buf), rinfo]))
    server.bind(where)
    const client = unix.createSocket('unix_dgram')
    const log: string[] = []
    client.send(Buffer.from('foobarbaz'), 3, 4, where, (...a: unknown[]) => log.push(`cb(${a.length})`))
    const nobody = path.join(tmp, 'nobody.sock')
    client.send(Buffer.from('x'), 0, 1, nobody, (err) => log.push(`cb ${err?.message} ${err?.code} ${(err as unix.UnixDgramError).syscall}`))
    client.on('error', (err) => log.push(`error ${err.message}`))
    client.send(Buffer.from('x'), 0, 1, nobody)
    log.push('returned')
    expect(log).toEqual(['cb(0)', `cb send ${-errno.ENOENT} ${-errno.ENOENT} send`, `error send ${-errno.ENOENT}`, 'returned'])
    // The unnamed sender's path is null; a bound sender's is its path.
    const named = unix.createSocket('unix_dgram')
    const namedPath = sockPath()
    named.bind(namedPath)
    named.sendto(Buffer.from('named'), 0, 5, where)
    await until(() => got.length === 2, 'two datagrams')
    expect(got).toEqual([
      ['barb', { size: 4, address: {}, path: null }],
      ['named', { size: 5, address: {}, path: namedPath }],
    ])
    for (const s of [client, named, server]) s.close()
  })

  it('a connected send takes the whole buffer: offset and length are ignored and the callback is the second argument', async () => {
    const where = sockPath()
    const got: string[] = []
    const server = unix.createSocket('unix_dgram', (buf) => got.push(String(buf)))
    server.bind(where)
    const client = unix.createSocket('unix_dgram')
    client.connect(where)
    let called = 0
    ;(client.send as (...a: unknown[]) => void)(Buffer.from('whole'), () => called++, 2, '/elsewhere')
    expect(called).toBe(1)
    await until(() => got.length === 1, 'the datagram')
    expect(got).toEqual(['whole'])
    // A peer that went away: ECONNREFUSED as unix-dgram reports it.
    server.close()
    let err: unix.UnixDgramError | undefined
    client.send(Buffer.from('x'), (e) => (err = e as unix.UnixDgramError))
    expect(err?.code).toBe(-errno.ECONNREFUSED)
    expect(err?.message).toBe(`send ${-errno.ECONNREFUSED}`)
    client.close()
  })

  it("close(): at once, no 'close' event, nothing received after it; a second close() and later calls fail with EBADF", async () => {
    const where = sockPath()
    const got: string[] = []
    const server = unix.createSocket('unix_dgram', (buf) => got.push(String(buf)))
    server.bind(where)
    const events = recorder(server, ['close', 'error'])
    const client = unix.createSocket('unix_dgram')
    client.connect(where)
    client.send(Buffer.from('late'))
    server.close()
    expect(() => server.close()).toThrow(expect.objectContaining({ message: `close ${-errno.EBADF}`, code: -errno.EBADF, syscall: 'close' }))
    let err: unix.UnixDgramError | undefined
    server.send(Buffer.from('x'), 0, 1, where, (e) => (err = e as unix.UnixDgramError))
    expect(err?.code).toBe(-errno.EBADF)
    await new Promise((r) => setTimeout(r, 50))
    expect(got).toEqual([])
    expect(events).toEqual([])
    client.close()
  })

  it('arguments unix-dgram would truncate or abort on are thrown: a non-buffer, a slice past the end, a too-long path', () => {
    const s = unix.createSocket('unix_dgram')
    expect(() => s.send('text' as never, 0, 4, sockPath())).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => s.send(Buffer.from('ab'), 1, 5, sockPath())).toThrow(RangeError)
    expect(() => s.bind(path.join(tmp, 'x'.repeat(200)))).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_PATH_TOO_LONG' }))
    // Any ArrayBufferView is a buffer to unix-dgram.
    let err: unknown = 'pending'
    s.send(new Uint8Array([1, 2, 3]), 0, 3, path.join(tmp, 'nobody.sock'), (e) => (err = e))
    expect((err as unix.UnixDgramError).code).toBe(-errno.ENOENT)
    s.close()
  })

  it("UDP options throw 'not implemented', as unix-dgram's do", () => {
    const s = unix.createSocket('unix_dgram')
    for (const name of ['setTTL', 'setBroadcast', 'setMulticastTTL', 'setMulticastLoopback', 'addMembership', 'dropMembership'] as const) {
      expect(() => (s as unknown as Record<string, () => void>)[name]()).toThrow('not implemented')
    }
    s.close()
  })
})

describe('the unix-dgram contract: congestion', () => {
  // The peer's queue holds net.unix.max_dgram_qlen datagrams (10 by default, 512 where systemd
  // raises it); a burst past that meets a full peer for sure.
  const qlen = Number(fs.readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8'))
  const burst = qlen + 100

  /** A bound peer that reads nothing while this thread is busy (so its queue fills). */
  function peer(): { path: string; got: string[]; socket: unix.Socket } {
    const where = sockPath()
    const got: string[] = []
    const socket = unix.createSocket('unix_dgram', (buf) => got.push(String(buf)))
    socket.bind(where)
    return { path: where, got, socket }
  }

  it("connected: past a full peer sends are refused with { message: 'congestion', code: 1 } or the 'congestion' event; 'writable' follows; accepted datagrams arrive in order", async () => {
    const p = peer()
    const s = unix.createSocket('unix_dgram')
    s.connect(p.path)
    const outcomes: string[] = []
    for (let i = 0; i < burst; i++) {
      s.send(Buffer.from(`m${i}`), (err) => outcomes.push(err ? `${err.message}/${err.code}` : 'ok'))
    }
    // Every callback ran inside its send().
    expect(outcomes).toHaveLength(burst)
    const accepted = outcomes.indexOf('congestion/1')
    expect(accepted).toBeGreaterThan(0)
    // Once refused, the rest of the burst is refused too (the peer cannot read meanwhile).
    expect(outcomes.slice(accepted).every((o) => o === 'congestion/1')).toBe(true)
    const congested: Buffer[] = []
    s.on('congestion', (buf: Buffer) => congested.push(buf))
    const refused = Buffer.from('no callback')
    s.send(refused)
    expect(congested).toEqual([refused])
    expect(congested[0]).toBe(refused)
    await next(s, 'writable')
    await until(() => p.got.length === accepted, 'the accepted datagrams')
    expect(p.got).toEqual(Array.from({ length: accepted }, (_, i) => `m${i}`))
    // Writable means writable: the next send goes.
    let after: unknown = 'pending'
    s.send(Buffer.from('again'), (err) => (after = err))
    expect(after).toBeUndefined()
    await until(() => p.got.length === accepted + 1, 'the datagram after writable')
    s.close()
    p.socket.close()
  })

  it("unix-dgram's resend idiom (congestion → once 'writable' → send again) delivers every datagram in order", async () => {
    const p = peer()
    const s = unix.createSocket('unix_dgram')
    s.setMaxListeners(1000)
    s.connect(p.path)
    s.on('congestion', (buf: Buffer) => s.once('writable', () => s.send(buf)))
    const N = 300
    for (let i = 0; i < N; i++) s.send(Buffer.from(`p${i}`))
    await until(() => p.got.length === N, `${N} datagrams`)
    expect(p.got).toEqual(Array.from({ length: N }, (_, i) => `p${i}`))
    s.close()
    p.socket.close()
  })

  it('unconnected: a send to a full peer fails with EAGAIN (send -11), as sendto does; no writable is owed', async () => {
    const p = peer()
    const s = unix.createSocket('unix_dgram')
    const outcomes: string[] = []
    for (let i = 0; i < burst; i++) s.send(Buffer.from(`u${i}`), 0, 1 + String(i).length, p.path, (err) => outcomes.push(err ? String(err.code) : 'ok'))
    const accepted = outcomes.indexOf(String(-errno.EAGAIN))
    expect(accepted).toBeGreaterThan(0)
    expect(outcomes.slice(accepted).every((o) => o === String(-errno.EAGAIN))).toBe(true)
    let writable = 0
    s.on('writable', () => writable++)
    await until(() => p.got.length === accepted, 'the accepted datagrams')
    await new Promise((r) => setTimeout(r, 20))
    expect(writable).toBe(0)
    s.close()
    p.socket.close()
  })

  it('congestionLimit (added): that many datagrams may wait for the peer before sends are refused', async () => {
    expect(() => unix.createSocket('unix_dgram', undefined, { congestionLimit: 0 })).toThrow(RangeError)
    const p = peer()
    const strict = unix.createSocket('unix_dgram')
    expect(strict.congestionLimit).toBe(1)
    strict.close()
    const s = unix.createSocket('unix_dgram', undefined, { congestionLimit: 50 })
    s.connect(p.path)
    const outcomes: string[] = []
    for (let i = 0; i < burst + 50; i++) s.send(Buffer.from(`q${i}`), (err) => outcomes.push(err ? err.message : 'ok'))
    const accepted = outcomes.indexOf('congestion')
    // The kernel's queue plus the 50 that wait.
    expect(accepted).toBeGreaterThanOrEqual(50)
    expect(accepted).toBeLessThanOrEqual(qlen + 51)
    await next(s, 'writable')
    await until(() => p.got.length === accepted, 'the accepted datagrams')
    expect(p.got).toEqual(Array.from({ length: accepted }, (_, i) => `q${i}`))
    s.close()
    p.socket.close()
  })
})

describe('what unix-dgram lacks', () => {
  it('address(), ref(), unref()', () => {
    const where = sockPath()
    const s = unix.createSocket('unix_dgram')
    s.bind(where)
    expect(s.address()).toEqual({ address: where })
    expect(s.unref()).toBe(s)
    expect(s.ref()).toBe(s)
    s.close()
  })
})

describe('hot-shots over uds, with the real hot-shots from npm', () => {
  it('counters, gauges and histograms arrive as the exact StatsD lines', async () => {
    const r = await receiver()
    const client = new StatsD({ protocol: 'uds', path: r.path, prefix: 'app.', globalTags: { env: 'test' }, maxBufferSize: 0 })
    client.increment('requests')
    client.increment('requests', 5, ['route:home'])
    client.gauge('queue.depth', 42)
    client.histogram('latency', 12.5, ['db'])
    await until(() => r.lines.length === 4, 'four metrics')
    expect(r.lines).toEqual([
      'app.requests:1|c|#env:test',
      'app.requests:5|c|#env:test,route:home',
      'app.queue.depth:42|g|#env:test',
      'app.latency:12.5|h|#env:test,db',
    ])
    await new Promise<void>((resolve) => client.close(() => resolve()))
    r.close()
  })

  it("a burst beyond the peer's queue: hot-shots' congestion retries deliver every metric", async () => {
    const r = await receiver()
    const errors: Error[] = []
    // hot-shots retries a send refused with congestion; with enough retries nothing is lost.
    const client = new StatsD({
      protocol: 'uds',
      path: r.path,
      maxBufferSize: 0,
      udsRetryOptions: { retries: 200, retryDelayMs: 1, maxRetryDelayMs: 5, backoffFactor: 1 },
      errorHandler: (e: Error) => errors.push(e),
    })
    const N = 500
    for (let i = 0; i < N; i++) client.increment('c', i)
    await until(() => r.lines.length === N, `${N} metrics`, 20_000)
    expect(new Set(r.lines)).toEqual(new Set(Array.from({ length: N }, (_, i) => `c:${i}|c`)))
    expect(errors).toEqual([])
    await new Promise<void>((resolve) => client.close(() => resolve()))
    r.close()
  })

  it('a missing socket path: the connect error reaches hot-shots inside its constructor, as with unix-dgram', () => {
    const errors: Error[] = []
    let thrown: unknown
    try {
      const client = new StatsD({ protocol: 'uds', path: path.join(tmp, 'no-agent.sock'), errorHandler: (e: Error) => errors.push(e) })
      client.close()
    } catch (e) {
      thrown = e
    }
    const seen = (thrown ?? errors[0]) as unix.UnixDgramError | undefined
    expect(seen?.message).toBe(`connect ${-errno.ENOENT}`)
  })
})
