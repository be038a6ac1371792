// sendMany() (beyond node:dgram) and the send hot path's address handling: IP literals skip
// dns.lookup, names are cached per socket, a user `lookup` is still called every time, and the
// callback stays asynchronous and ordered exactly like node:dgram's (checked differentially).
import dns from 'node:dns'
import path from 'node:path'
import { afterEach, describe, expect, it, vi } from 'vitest'
import { createSocket, type BatchSocket, type RemoteInfo, type UnixSocket } from '../src/index'
import { once, sameAsNode, tempDir, until } from './harness'

const opened: { close(): unknown }[] = []
afterEach(() => {
  for (const s of opened.splice(0)) {
    try {
      s.close()
    } catch {
      // already closed
    }
  }
  vi.restoreAllMocks()
})

async function receiver(type: 'udp4' | 'udp6' = 'udp4'): Promise<{ s: BatchSocket; port: number; got: [string, RemoteInfo][] }> {
  const s = createSocket(type)
  opened.push(s)
  const got: [string, RemoteInfo][] = []
  s.on('message', (m, r) => got.push([m.toString(), r]))
  s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1')
  await once(s, 'listening')
  return { s, port: s.address().port, got }
}

describe('sendMany', () => {
  it('sends each element as its own datagram, in order, then calls back once with the total bytes', async () => {
    const r = await receiver()
    const s = createSocket('udp4')
    opened.push(s)
    const msgs = Array.from({ length: 200 }, (_, i) => `m${i}`)
    const bytes = msgs.reduce((n, m) => n + m.length, 0)
    let sync = true
    const result = new Promise<[Error | null, number]>((res) => s.sendMany(msgs, r.port, '127.0.0.1', (err, n) => res([err, n])))
    sync = false
    const [err, n] = await result
    expect(sync).toBe(false)
    expect(err).toBeNull()
    expect(n).toBe(bytes)
    await until(() => r.got.length === msgs.length, 'all datagrams arrive')
    expect(r.got.map(([m]) => m)).toEqual(msgs)
    expect(r.got[0][1]).toMatchObject({ address: '127.0.0.1', family: 'IPv4', port: s.address().port, size: 2 })
  })

  it('takes Buffers, strings and typed arrays, the default address and an empty list', async () => {
    const r = await receiver('udp6')
    const s = createSocket('udp6')
    opened.push(s)
    const [err, n] = await new Promise<[Error | null, number]>((res) =>
      s.sendMany([Buffer.from('a'), 'bc', new Uint8Array([100, 101, 102])], r.port, (e, k) => res([e, k])),
    )
    expect(err).toBeNull()
    expect(n).toBe(6)
    await until(() => r.got.length === 3, 'three datagrams')
    expect(r.got.map(([m]) => m)).toEqual(['a', 'bc', 'def'])
    const empty = await new Promise<[Error | null, number]>((res) => s.sendMany([], r.port, (e, k) => res([e, k])))
    expect(empty).toEqual([null, 0])
  })

  it('validates like send(): bad messages and ports throw synchronously', () => {
    const s = createSocket('udp4')
    opened.push(s)
    expect(() => s.sendMany('x' as never, 9)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => s.sendMany([{} as never], 9)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => s.sendMany(['x'], 0)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }))
    s.close()
    expect(() => s.sendMany(['x'], 9, '127.0.0.1')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })

  it('an oversized datagram fails the callback with send EMSGSIZE', async () => {
    const r = await receiver()
    const s = createSocket('udp4')
    opened.push(s)
    const [err] = await new Promise<[Error | null, number]>((res) => s.sendMany([Buffer.alloc(70000)], r.port, '127.0.0.1', (e, k) => res([e, k])))
    expect(err).toMatchObject({ code: 'EMSGSIZE', syscall: 'send', address: '127.0.0.1', port: r.port })
  })

  it('works on a connected socket and goes to the peer', async () => {
    const r = await receiver()
    const s = createSocket('udp4')
    opened.push(s)
    s.connect(r.port, '127.0.0.1')
    await once(s, 'connect')
    const [err, n] = await new Promise<[Error | null, number]>((res) => s.sendMany(['x', 'yz'], (e, k) => res([e, k])))
    expect([err, n]).toEqual([null, 3])
    await until(() => r.got.length === 2, 'two datagrams')
    expect(r.got.map(([m]) => m)).toEqual(['x', 'yz'])
  })

  it('unix_dgram: to a path, in order, one callback', async () => {
    const p = path.join(tempDir(), 'batch.sock')
    const server: UnixSocket = createSocket('unix_dgram')
    opened.push(server)
    const got: string[] = []
    server.on('message', (m) => got.push(m.toString()))
    server.bind(p)
    await once(server, 'listening')
    const c: UnixSocket = createSocket('unix_dgram')
    opened.push(c)
    const msgs = Array.from({ length: 50 }, (_, i) => `u${i}`)
    const [err, n] = await new Promise<[Error | null, number]>((res) => c.sendMany(msgs, p, (e, k) => res([e, k])))
    expect(err).toBeNull()
    expect(n).toBe(msgs.reduce((a, m) => a + m.length, 0))
    await until(() => got.length === msgs.length, 'all unix datagrams')
    expect(got).toEqual(msgs)
  })

  it('before bind: binds implicitly and sends after listening', async () => {
    const r = await receiver()
    const s = createSocket('udp4')
    opened.push(s)
    const events: string[] = []
    s.on('listening', () => events.push('listening'))
    await new Promise<void>((res) => s.sendMany(['a', 'b'], r.port, '127.0.0.1', () => { events.push('callback'); res() }))
    expect(events).toEqual(['listening', 'callback'])
    await until(() => r.got.length === 2, 'two datagrams')
  })
})

describe('send() address resolution on the hot path', () => {
  it('IP literals and the default address skip dns.lookup; names use it once per socket (cached)', async () => {
    const spy = vi.spyOn(dns, 'lookup')
    const r = await receiver()
    const s = createSocket('udp4')
    opened.push(s)
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    spy.mockClear()
    await new Promise((res) => s.send('a', r.port, '127.0.0.1', res))
    await new Promise((res) => s.send('b', r.port, res))
    expect(spy).not.toHaveBeenCalled()
    await new Promise((res) => s.send('c', r.port, 'localhost', res))
    await new Promise((res) => s.send('d', r.port, 'localhost', res))
    expect(spy).toHaveBeenCalledTimes(1)
    await until(() => r.got.length === 4, 'four datagrams')
  })

  it('a user lookup is still called for every send, literals included', async () => {
    const r = await receiver()
    const seen: string[] = []
    const s = createSocket({
      type: 'udp4',
      lookup: ((host: string, _family: number, cb: (e: null, a: string, f: number) => void) => {
        seen.push(host)
        process.nextTick(cb, null, '127.0.0.1', 4)
      }) as never,
    })
    opened.push(s)
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    seen.length = 0
    await new Promise((res) => s.send('a', r.port, '127.0.0.1', res))
    await new Promise((res) => s.send('b', r.port, '127.0.0.1', res))
    expect(seen).toEqual(['127.0.0.1', '127.0.0.1'])
  })

  it('the callback runs on the same tick as with node:dgram, relative to nextTick and promises', async () => {
    await sameAsNode((ctx) => {
      const rx = ctx.track(ctx.dgram.createSocket('udp4'))
      rx.bind(0, '127.0.0.1', () => {
        const s = ctx.track(ctx.dgram.createSocket('udp4'))
        s.bind(0, '127.0.0.1', () => {
          s.send('x', rx.address().port, '127.0.0.1', (err, n) => {
            ctx.rec('callback', err, n)
          })
          process.nextTick(() => ctx.rec('tick 1'))
          process.nextTick(() => process.nextTick(() => ctx.rec('tick 2')))
          void Promise.resolve().then(() => ctx.rec('microtask'))
          setImmediate(() => {
            ctx.rec('immediate')
            ctx.done()
          })
        })
      })
    })
  })

  it('send then close in the same tick: the callback never runs, as with node:dgram', async () => {
    await sameAsNode((ctx) => {
      const rx = ctx.track(ctx.dgram.createSocket('udp4'))
      rx.bind(0, '127.0.0.1', () => {
        const s = ctx.dgram.createSocket('udp4')
        s.bind(0, '127.0.0.1', () => {
          s.send('x', rx.address().port, '127.0.0.1', (err) => ctx.rec('callback', err))
          s.close(() => ctx.rec('closed'))
          setTimeout(() => ctx.done(), 30)
        })
      })
    })
  })
})
