// Event, tick and microtask order, compared with node:dgram: node delivers every datagram from
// its own event-loop callback, so what one 'message' listener queues with process.nextTick or a
// promise runs before the next datagram arrives, even when the kernel handed over many at once.
import { describe, expect, it } from 'vitest'
import path from 'node:path'
import { createSocket } from '../src/index'
import { once, sameAsNode, tempDir, withTimeout } from './harness'

describe("tick and microtask order between 'message' events", () => {
  it('udp4: a burst taken in one batch is delivered datagram by datagram, ticks and microtasks in between (differential)', async () => {
    await sameAsNode((ctx) => {
      const server = ctx.track(ctx.dgram.createSocket('udp4'))
      const client = ctx.track(ctx.dgram.createSocket('udp4'))
      let seen = 0
      server.on('message', (msg) => {
        const name = msg.toString()
        ctx.rec(`message ${name}`)
        process.nextTick(() => ctx.rec(`nextTick after ${name}`))
        queueMicrotask(() => ctx.rec(`microtask after ${name}`))
        void Promise.resolve().then(() => ctx.rec(`promise after ${name}`))
        if (++seen === 4) setImmediate(() => ctx.done())
      })
      server.bind(0, '127.0.0.1', () => {
        const port = server.address().port
        // Sent in one go and only read on a later turn of the loop, so the receiver takes all
        // four in one wake-up (one recvmmsg here, four recvmsg callbacks in node).
        let sent = 0
        for (const m of ['a', 'b', 'c', 'd']) client.send(m, port, '127.0.0.1', () => ++sent)
      })
    })
  })

  it('udp4: a close() from a nextTick between two datagrams stops delivery there (differential)', async () => {
    await sameAsNode((ctx) => {
      const server = ctx.track(ctx.dgram.createSocket('udp4'))
      const client = ctx.track(ctx.dgram.createSocket('udp4'))
      server.on('message', (msg) => {
        ctx.rec(`message ${msg.toString()}`)
        process.nextTick(() => {
          ctx.rec('closing')
          server.close(() => {
            ctx.rec('closed')
            ctx.done()
          })
        })
      })
      server.bind(0, '127.0.0.1', () => {
        const port = server.address().port
        for (const m of ['a', 'b', 'c']) client.send(m, port, '127.0.0.1')
      })
    })
  })

  it('unix_dgram gives the same order (node:dgram has no unix_dgram: the udp4 order above)', async () => {
    const p = path.join(tempDir(), 'order.sock')
    const server = createSocket('unix_dgram')
    server.bind(p)
    await once(server, 'listening')
    const client = createSocket('unix_dgram')
    const log: string[] = []
    const done = new Promise<void>((resolve) => {
      let seen = 0
      server.on('message', (msg) => {
        const name = msg.toString()
        log.push(`message ${name}`)
        process.nextTick(() => log.push(`nextTick after ${name}`))
        queueMicrotask(() => log.push(`microtask after ${name}`))
        if (++seen === 3) setImmediate(resolve)
      })
    })
    // unix sends complete at once: all three wait in the kernel for one wake-up of the receiver.
    for (const m of ['a', 'b', 'c']) client.send(m, p)
    await withTimeout(done, 5000, 'three datagrams')
    expect(log).toEqual(['a', 'b', 'c'].flatMap((n) => [`message ${n}`, `nextTick after ${n}`, `microtask after ${n}`]))
    client.close()
    server.close()
  })
})
