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

describe('the unix-dgram API', () => {
  it('createSocket: unix_dgram sockets; udp4/udp6 from @dgramx/dgram; anything else throws as unix-dgram', () => {
    const s = unix.createSocket('unix_dgram')
    expect(s).toBeInstanceOf(unix.Socket)
    expect(s.type).toBe('unix_dgram')
    s.close()
    const u = unix.createSocket('udp4')
    expect(typeof u.setTTL).toBe('function')
    u.close()
    expect(() => unix.createSocket('tcp' as never)).toThrow('Unsupported socket type: tcp')
  })

  it('bind + message listener: rinfo is { size, address: {}, path } as in unix-dgram', async () => {
    const where = sockPath()
    const server = unix.createSocket('unix_dgram', () => {})
    server.bind(where)
    await next(server, 'listening')
    const client = unix.createSocket('unix_dgram')
    const clientPath = sockPath()
    client.bind(clientPath)
    await next(client, 'listening')
    const got = next<[Buffer, unix.RemoteInfo]>(server, 'message')
    const msg = Buffer.from('ping')
    client.send(msg, 0, msg.length, where)
    const [buf, rinfo] = await got
    expect(String(buf)).toBe('ping')
    expect(rinfo).toEqual({ size: 4, address: {}, path: clientPath })
    client.close()
    server.close()
  })

  it('connect + send(buf, cb): callback() with no arguments on success; errors are coded', async () => {
    const r = await receiver()
    const s = unix.createSocket('unix_dgram')
    const connected = next(s, 'connect')
    s.connect(r.path)
    await connected
    const args = await new Promise<unknown[]>((resolve) => s.send(Buffer.from('hello'), (...a: unknown[]) => resolve(a)))
    expect(args).toEqual([])
    await until(() => r.lines.length === 1, 'the datagram')
    expect(r.lines).toEqual(['hello'])

    // Nobody at the other end any more: the send fails with a Node-style coded error.
    r.close()
    await new Promise((res) => setTimeout(res, 20))
    const err = await new Promise<NodeJS.ErrnoException | undefined>((resolve) => s.send(Buffer.from('x'), resolve))
    expect(err?.code).toBe('ECONNREFUSED')
    expect(err?.syscall).toBe('send')
    s.close()
  })

  it('an unconnected send failure without a callback is an error event (as unix-dgram)', async () => {
    const s = unix.createSocket('unix_dgram')
    const failed = next<[NodeJS.ErrnoException]>(s, 'error')
    const msg = Buffer.from('x')
    s.send(msg, 0, 1, path.join(tmp, 'nobody.sock'))
    const [err] = await failed
    expect(err.code).toBe('ENOENT')
    s.close()
  })

  it('a slow peer: sends wait in order; past congestionLimit they are refused with congestion, then writable', async () => {
    const r = await receiver()
    r.socket.setRecvBufferSize(4096)
    // The peer reads on this same thread, so while the loop below runs it reads nothing and
    // its queue (max_dgram_qlen is small) fills at once.
    const received = r.lines
    const s = unix.createSocket('unix_dgram', undefined, { congestionLimit: 50 })
    s.connect(r.path)
    const outcomes: string[] = []
    const congestionEvents: Buffer[] = []
    s.on('congestion', (b: Buffer) => congestionEvents.push(b))
    for (let i = 0; i < 200; i++) s.send(Buffer.from(`m${i}`), (err?: Error & { code?: string }) => outcomes.push(err ? String(err.code) : 'sent'))
    // Without a callback, congestion is an event carrying the refused buffer.
    s.send(Buffer.from('no-callback'))
    await until(() => outcomes.filter((o) => o === 'congestion').length > 0, 'congestion')
    expect(congestionEvents.map(String)).toEqual(['no-callback'])
    await next(s, 'writable', 10_000)
    await until(() => outcomes.length === 200, 'every callback')
    const sent = outcomes.filter((o) => o === 'sent').length
    const refused = outcomes.filter((o) => o === 'congestion').length
    expect(sent + refused).toBe(200)
    expect(refused).toBeGreaterThan(0)
    await until(() => received.length === sent, 'the queued datagrams')
    // What was accepted arrived whole and in order; what was refused never went out.
    const numbers = received.map((m) => Number(m.slice(1)))
    expect(numbers).toEqual([...numbers].sort((a, b) => a - b))
    s.close()
    r.close()
  })

  it('what unix-dgram lacks: close event, unref/ref, address()', async () => {
    const where = sockPath()
    const s = unix.createSocket('unix_dgram')
    s.bind(where)
    await next(s, 'listening')
    expect(s.address()).toEqual({ address: where })
    expect(s.unref()).toBe(s)
    expect(s.ref()).toBe(s)
    const closed = next(s, 'close')
    s.close()
    await closed
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

  it('under a slow receiver nothing is lost: hot-shots never has to give up', async () => {
    const r = await receiver()
    r.socket.setRecvBufferSize(4096)
    const errors: Error[] = []
    const client = new StatsD({ protocol: 'uds', path: r.path, maxBufferSize: 0, errorHandler: (e: Error) => errors.push(e) })
    const N = 5000
    // A burst far beyond what the peer's queue holds, sent while the peer (same thread)
    // cannot read: unix-dgram would answer most of it with congestion and hot-shots would
    // retry and finally drop; here it waits in order.
    for (let i = 0; i < N; i++) client.increment('c', i)
    const pausedLines = r.lines
    await until(() => pausedLines.length === N, `${N} metrics`, 20_000)
    expect(pausedLines[0]).toBe('c:0|c')
    expect(pausedLines[N - 1]).toBe(`c:${N - 1}|c`)
    expect(errors).toEqual([])
    await new Promise<void>((resolve) => client.close(() => resolve()))
    r.close()
  })
})
