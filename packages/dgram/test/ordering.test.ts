// Ordering and timing between sockets, compared with node:dgram: which datagrams a receiver
// gets and in which order, and the order of events, callbacks, ticks and microtasks, across
// bursts, batches, binds, connects and closes. node:dgram resolves every bind, connect and
// unconnected send with dns.lookup, which answers an IP literal on process.nextTick, so all
// of them happen in call order on the tick queue; ours keeps each send's turn (tick-queue.ts).
import { describe, expect, it } from 'vitest'
import * as nodeDgram from 'node:dgram'
import type { RemoteInfo, Socket } from 'node:dgram'
import { createSocket, type UdpSocket } from '../src/index'
import { once, sameAsNode, socketTracker, withTimeout, type Ctx } from './harness'

/** A UDP port nobody is bound to right now (bound and released through node:dgram). */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = nodeDgram.createSocket('udp4')
    s.once('error', reject)
    s.bind(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

/** Binds `n` sockets of the scenario's module to loopback; resolves with them once all listen. */
function bound(ctx: Ctx, n: number): Promise<Socket[]> {
  return Promise.all(
    Array.from(
      { length: n },
      () =>
        new Promise<Socket>((resolve) => {
          const s = ctx.track(ctx.dgram.createSocket('udp4'))
          s.bind(0, '127.0.0.1', () => resolve(s))
        }),
    ),
  )
}

/** Records what `rx` receives (text and the sender's alias) until `count` arrived or `ms` passed, then done. */
function collect(ctx: Ctx, rx: Socket, count: number, names: Map<number, string>, ms = 300): void {
  const got: string[] = []
  let finished = false
  const finish = (why: string): void => {
    if (finished) return
    finished = true
    ctx.rec('received', got, why)
    ctx.done()
  }
  rx.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    got.push(`${names.get(rinfo.port) ?? '?'}:${msg.toString()}`)
    if (got.length === count) setTimeout(() => finish('all'), 30)
  })
  setTimeout(() => finish('deadline'), ms)
}

describe('a send and a bind() issued before it in the same tick (differential)', () => {
  it("b.send() to a port that a.bind() takes just before: the datagram finds a bound (issue 16's coap case)", async () => {
    await sameAsNode(async (ctx) => {
      const port = await freePort()
      const [b] = await bound(ctx, 1)
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      collect(ctx, a, 1, new Map([[b.address().port, 'b']]))
      a.bind(port, '127.0.0.1')
      b.send('hello', port, '127.0.0.1', (err) => ctx.rec('send callback', err))
    })
  })

  it('the same with the wildcard address and the default bind address', async () => {
    await sameAsNode(async (ctx) => {
      const port = await freePort()
      const [b] = await bound(ctx, 1)
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      collect(ctx, a, 2, new Map([[b.address().port, 'b']]))
      a.bind(port)
      b.send('one', port, '127.0.0.1')
      b.send('two', port)
    })
  })

  it('a send issued before the bind() misses it; one issued after finds it', async () => {
    await sameAsNode(async (ctx) => {
      const port = await freePort()
      const [b] = await bound(ctx, 1)
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      collect(ctx, a, 1, new Map([[b.address().port, 'b']]))
      b.send('before', port, '127.0.0.1', (err) => ctx.rec('before: callback', err))
      a.bind(port, '127.0.0.1', () => ctx.rec('listening'))
      b.send('after', port, '127.0.0.1', (err) => ctx.rec('after: callback', err))
    })
  })

  it('a bind() in the middle of a burst of 100: the first 50 are lost, the last 50 arrive in order', async () => {
    await sameAsNode(async (ctx) => {
      const port = await freePort()
      const [b] = await bound(ctx, 1)
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      collect(ctx, a, 50, new Map([[b.address().port, 'b']]), 1000)
      for (let i = 0; i < 100; i++) {
        if (i === 50) a.bind(port, '127.0.0.1')
        b.send(`m${i}`, port, '127.0.0.1')
      }
    })
  })

  it('an unbound sender binds first, so its datagram finds a receiver bound after its send()', async () => {
    await sameAsNode(async (ctx) => {
      const port = await freePort()
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      const tx = ctx.track(ctx.dgram.createSocket('udp4'))
      tx.on('listening', () => ctx.rec('tx listening'))
      collect(ctx, a, 1, new Map())
      tx.send('implicit bind', port, '127.0.0.1', (err) => ctx.rec('send callback', err))
      a.bind(port, '127.0.0.1', () => ctx.rec('a listening'))
    })
  })

  it('two unbound senders and a bound one, interleaved: arrival order as node gives it', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, b] = await bound(ctx, 2)
      const port = rx.address().port
      const u1 = ctx.track(ctx.dgram.createSocket('udp4'))
      const u2 = ctx.track(ctx.dgram.createSocket('udp4'))
      const names = new Map([[b.address().port, 'b']])
      u1.on('listening', () => names.set(u1.address().port, 'u1'))
      u2.on('listening', () => names.set(u2.address().port, 'u2'))
      collect(ctx, rx, 6, names)
      u1.send('1', port, '127.0.0.1')
      b.send('2', port, '127.0.0.1')
      u2.send('3', port, '127.0.0.1')
      u1.send('4', port, '127.0.0.1')
      b.send('5', port, '127.0.0.1')
      u2.send('6', port, '127.0.0.1')
    })
  })
})

describe('bursts from several sockets to one receiver (differential)', () => {
  it('interleaved sends of three sockets arrive in call order', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, a, b, c] = await bound(ctx, 4)
      const names = new Map([
        [a.address().port, 'a'],
        [b.address().port, 'b'],
        [c.address().port, 'c'],
      ])
      const port = rx.address().port
      collect(ctx, rx, 30, names)
      const order = [a, a, b, a, c, c, b, b, b, a]
      for (let i = 0; i < 30; i++) order[i % order.length].send(`${i}`, port, '127.0.0.1')
    })
  })

  it('runs of one socket long enough for several sendmmsg calls, with other sockets in between', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, a, b] = await bound(ctx, 3)
      const names = new Map([
        [a.address().port, 'a'],
        [b.address().port, 'b'],
      ])
      const port = rx.address().port
      rx.setRecvBufferSize(1 << 20)
      collect(ctx, rx, 220, names, 1500)
      for (let i = 0; i < 100; i++) a.send(`a${i}`, port, '127.0.0.1')
      b.send('b-middle', port, '127.0.0.1')
      for (let i = 100; i < 200; i++) a.send(`a${i}`, port, '127.0.0.1')
      for (let i = 0; i < 19; i++) b.send(`b${i}`, port, '127.0.0.1')
    })
  })

  it('a connected socket sends at once; unconnected sends of the same tick follow on their turn', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, a] = await bound(ctx, 2)
      const port = rx.address().port
      const c = ctx.track(ctx.dgram.createSocket('udp4'))
      c.connect(port, '127.0.0.1', () => {
        const names = new Map([
          [a.address().port, 'a'],
          [c.address().port, 'c'],
        ])
        collect(ctx, rx, 6, names)
        a.send('u1', port, '127.0.0.1')
        c.send('c1')
        a.send('u2', port, '127.0.0.1')
        c.send('c2')
        a.send('u3', port, '127.0.0.1')
        c.send('c3')
      })
    })
  })

  it('sends to several receivers in one tick: each gets its own, in order', async () => {
    await sameAsNode(async (ctx) => {
      const [r1, r2, tx] = await bound(ctx, 3)
      const names = new Map([[tx.address().port, 'tx']])
      const got: Record<string, string[]> = { r1: [], r2: [] }
      let left = 20
      const on = (name: string) => (msg: Buffer, rinfo: RemoteInfo) => {
        got[name].push(`${names.get(rinfo.port)}:${msg.toString()}`)
        if (--left === 0) {
          ctx.rec(got)
          ctx.done()
        }
      }
      r1.on('message', on('r1'))
      r2.on('message', on('r2'))
      for (let i = 0; i < 20; i++) tx.send(`${i}`, (i % 3 === 0 ? r2 : r1).address().port, '127.0.0.1')
    })
  })
})

describe('connect and close between sends (differential)', () => {
  it('connect() after some sends and before others: the earlier ones are already queued at the receiver, the later ones are filtered', async () => {
    await sameAsNode(async (ctx) => {
      const [c, peer, other] = await bound(ctx, 3)
      const cPort = c.address().port
      const names = new Map([
        [peer.address().port, 'peer'],
        [other.address().port, 'other'],
      ])
      collect(ctx, c, 4, names)
      other.send('other before', cPort, '127.0.0.1')
      peer.send('peer before', cPort, '127.0.0.1')
      c.connect(peer.address().port, '127.0.0.1', () => ctx.rec('connect'))
      other.send('other after', cPort, '127.0.0.1')
      peer.send('peer after', cPort, '127.0.0.1')
    })
  })

  it("an unbound socket's connect(): its implicit bind, its connect and other sockets' sends keep their turns", async () => {
    await sameAsNode(async (ctx) => {
      const [peer, other] = await bound(ctx, 2)
      const c = ctx.track(ctx.dgram.createSocket('udp4'))
      c.on('listening', () => ctx.rec('listening'))
      c.connect(peer.address().port, '127.0.0.1', () => {
        ctx.rec('connect')
        c.send('from c', (err) => ctx.rec('c send callback', err))
      })
      peer.on('message', (msg: Buffer) => {
        ctx.rec('peer got', msg.toString())
        ctx.done()
      })
      other.send('x', peer.address().port, '127.0.0.1', (err) => ctx.rec('other send callback', err))
    })
  })

  it('closing the receiver in the same tick as the sends: nothing is delivered, callbacks still run', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, tx] = await bound(ctx, 2)
      const port = rx.address().port
      rx.on('message', (msg: Buffer) => ctx.rec('delivered after close?', msg.toString()))
      tx.send('a', port, '127.0.0.1', (err, n) => ctx.rec('a callback', err, n))
      rx.close(() => ctx.rec('rx close'))
      tx.send('b', port, '127.0.0.1', (err, n) => ctx.rec('b callback', err, n))
      setTimeout(() => ctx.done(), 100)
    })
  })

  it("bind(), send() and close() of several sockets in one tick: 'listening', 'close', callbacks, ticks and microtasks in node's order", async () => {
    await sameAsNode(async (ctx) => {
      const [rx] = await bound(ctx, 1)
      const port = rx.address().port
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      const b = ctx.track(ctx.dgram.createSocket('udp4'))
      const c = ctx.track(ctx.dgram.createSocket('udp4'))
      for (const [name, s] of [
        ['a', a],
        ['b', b],
        ['c', c],
      ] as const) {
        s.on('listening', () => ctx.rec(`${name} listening`))
        s.on('close', () => ctx.rec(`${name} close`))
      }
      const mark = (label: string): void => {
        process.nextTick(() => ctx.rec(`tick ${label}`))
        queueMicrotask(() => ctx.rec(`microtask ${label}`))
      }
      a.bind(0, '127.0.0.1')
      mark('1')
      b.send('b1', port, '127.0.0.1', (err) => ctx.rec('b1 callback', err))
      mark('2')
      c.bind(0, '127.0.0.1', () => ctx.rec('c bind callback'))
      a.send('a1', port, '127.0.0.1', (err) => ctx.rec('a1 callback', err))
      mark('3')
      c.close()
      b.send('b2', port, '127.0.0.1', (err) => ctx.rec('b2 callback', err))
      mark('4')
      setTimeout(() => ctx.done(), 100)
    })
  })
})

describe('callbacks, ticks and microtasks around sends (differential)', () => {
  it("a burst's callbacks, ticks and microtasks queued between the sends", async () => {
    await sameAsNode(async (ctx) => {
      const [rx, a, b] = await bound(ctx, 3)
      const port = rx.address().port
      for (let i = 0; i < 4; i++) {
        a.send(`a${i}`, port, '127.0.0.1', (err, n) => {
          ctx.rec(`a${i} callback`, err, n)
          process.nextTick(() => ctx.rec(`tick from a${i} callback`))
        })
        process.nextTick(() => ctx.rec(`tick after a${i}`))
        void Promise.resolve().then(() => ctx.rec(`microtask after a${i}`))
        if (i % 2 === 1) b.send(`b${i}`, port, '127.0.0.1', (err, n) => ctx.rec(`b${i} callback`, err, n))
      }
      setTimeout(() => ctx.done(), 50)
    })
  })

  it("replies sent from 'message' listeners: each reply's callback before the next datagram, with the ticks and microtasks of each", async () => {
    await sameAsNode(async (ctx) => {
      const [server, client] = await bound(ctx, 2)
      let replies = 0
      server.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        const name = msg.toString()
        ctx.rec(`server got ${name}`)
        server.send(`re-${name}`, rinfo.port, rinfo.address, (err) => ctx.rec(`reply ${name} callback`, err))
        process.nextTick(() => ctx.rec(`tick after ${name}`))
        void Promise.resolve().then(() => ctx.rec(`microtask after ${name}`))
      })
      client.on('message', (msg: Buffer) => {
        ctx.rec(`client got ${msg.toString()}`)
        if (++replies === 3) ctx.done()
      })
      // One wake-up of the server for all three (one recvmmsg for us, three callbacks in node).
      for (const m of ['a', 'b', 'c']) client.send(m, server.address().port, '127.0.0.1')
    })
  })

  it('sends from a send callback, a tick and a microtask: each on its own turn', async () => {
    await sameAsNode(async (ctx) => {
      const [rx, a, b] = await bound(ctx, 3)
      const port = rx.address().port
      const names = new Map([
        [a.address().port, 'a'],
        [b.address().port, 'b'],
      ])
      collect(ctx, rx, 6, names)
      a.send('first', port, '127.0.0.1', () => {
        b.send('from a callback', port, '127.0.0.1')
        a.send('a from a callback', port, '127.0.0.1')
      })
      process.nextTick(() => b.send('from a tick', port, '127.0.0.1'))
      void Promise.resolve().then(() => a.send('from a microtask', port, '127.0.0.1'))
      b.send('second', port, '127.0.0.1')
    })
  })
})

describe('beyond node:dgram: sendMany() and sendWith() take their turn too', () => {
  const track = socketTracker()

  it('sendMany(), send() and sendWith() of several sockets arrive in call order', async () => {
    const rx = track(createSocket('udp4'))
    const a = track(createSocket('udp4'))
    const b = track(createSocket('udp4'))
    for (const s of [rx, a, b]) {
      s.bind(0, '127.0.0.1')
      await once(s, 'listening')
    }
    const port = rx.address().port
    const names = new Map([
      [a.address().port, 'a'],
      [b.address().port, 'b'],
    ])
    const got: string[] = []
    const all = new Promise<void>((resolve) => {
      rx.on('message', (msg, rinfo) => {
        got.push(`${names.get(rinfo.port)}:${msg.toString()}`)
        if (got.length === 7) resolve()
      })
    })
    a.sendMany(['m1', 'm2'], port, '127.0.0.1')
    b.send('s1', port, '127.0.0.1')
    a.sendWith('w1', { port, address: '127.0.0.1' })
    b.sendMany(['m3'], port, '127.0.0.1')
    a.send('s2', port, '127.0.0.1')
    b.sendWith('w2', { port, address: '127.0.0.1' })
    await withTimeout(all, 5000, 'seven datagrams')
    expect(got).toEqual(['a:m1', 'a:m2', 'b:s1', 'a:w1', 'b:m3', 'a:s2', 'b:w2'])
  })

  it('a receiver bound just before a sendMany() gets the whole batch', async () => {
    const port = await freePort()
    const tx = track(createSocket('udp4'))
    tx.bind(0, '127.0.0.1')
    await once(tx, 'listening')
    const rx = track(createSocket('udp4'))
    const got: string[] = []
    const all = new Promise<void>((resolve) => {
      rx.on('message', (msg) => {
        got.push(msg.toString())
        if (got.length === 3) resolve()
      })
    })
    rx.bind(port, '127.0.0.1')
    tx.sendMany(['1', '2', '3'], port, '127.0.0.1')
    await withTimeout(all, 5000, 'the batch')
    expect(got).toEqual(['1', '2', '3'])
  })
})

// DIFFERENCES.md, "send() to an IP literal": one socket's sends that share a turn leave together.
describe('deliberate differences of a shared turn (DIFFERENCES.md)', () => {
  const track = socketTracker()

  async function pair(): Promise<[UdpSocket, UdpSocket]> {
    const rx = track(createSocket('udp4'))
    const tx = track(createSocket('udp4'))
    for (const s of [rx, tx]) {
      s.bind(0, '127.0.0.1')
      await once(s, 'listening')
    }
    return [rx, tx]
  }

  it('a nextTick queued between two sends of one turn runs after both have left; the ticks it queues follow both callbacks', async () => {
    const [rx, tx] = await pair()
    const port = rx.address().port
    const log: string[] = []
    const finished = new Promise<void>((resolve) => setTimeout(resolve, 50))
    tx.send('1', port, '127.0.0.1', () => log.push('callback 1'))
    process.nextTick(() => {
      log.push('tick')
      process.nextTick(() => log.push('tick from tick'))
    })
    tx.send('2', port, '127.0.0.1', () => log.push('callback 2'))
    await finished
    // node:dgram: tick, callback 1, tick from tick, callback 2 (each send has its own turn).
    expect(log).toEqual(['tick', 'callback 1', 'callback 2', 'tick from tick'])
  })

  it('close() in the same tick sends the waiting datagrams before closing; their callbacks do not run', async () => {
    const [rx, tx] = await pair()
    const port = rx.address().port
    const got: string[] = []
    const arrived = new Promise<void>((resolve) =>
      rx.on('message', (msg) => {
        got.push(msg.toString())
        if (got.length === 3) resolve()
      }),
    )
    const callbacks: unknown[] = []
    for (const m of ['a', 'b', 'c']) tx.send(m, port, '127.0.0.1', (err) => callbacks.push(err))
    tx.close()
    await withTimeout(arrived, 5000, 'the three datagrams')
    await new Promise((resolve) => setTimeout(resolve, 20))
    // node:dgram: nothing arrives (its lookup ticks find the socket closed).
    expect({ got, callbacks }).toEqual({ got: ['a', 'b', 'c'], callbacks: [] })
  })
})
