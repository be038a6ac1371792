import { describe, expect, it } from 'vitest'
import type { RemoteInfo } from 'node:dgram'
import { createSocket } from '../src/index'
import { runScript } from './child'
import { once, sameAsNode, withTimeout } from './harness'

describe('message events (differential)', () => {
  for (const type of ['udp4', 'udp6'] as const) {
    const host = type === 'udp4' ? '127.0.0.1' : '::1'
    it(`${type}: msg is a Buffer, rinfo is { address, family, port, size }, this is the socket`, async () => {
      await sameAsNode((ctx) => {
        const server = ctx.track(ctx.dgram.createSocket(type))
        server.on('message', function (this: unknown, msg: Buffer, rinfo: RemoteInfo) {
          ctx.rec('message', this === server, Buffer.isBuffer(msg), msg, Object.keys(rinfo), {
            ...rinfo,
            port: rinfo.port === client.address().port,
          })
          if (msg.length === 0) ctx.done()
        })
        const client = ctx.track(ctx.dgram.createSocket(type))
        server.bind(0, host, () => {
          client.bind(0, host, () => {
            client.send('one', server.address().port, host)
            client.send(Buffer.alloc(0), server.address().port, host)
          })
        })
      })
    })
  }

  it('a udp6 socket receives from an IPv4-mapped sender when dual-stack', async () => {
    await sameAsNode((ctx) => {
      const server = ctx.track(ctx.dgram.createSocket('udp6'))
      server.on('message', (msg, rinfo) => {
        ctx.rec(msg, rinfo.address, rinfo.family)
        ctx.done()
      })
      server.bind(0, '::ffff:127.0.0.1', () => {
        const client = ctx.track(ctx.dgram.createSocket('udp4'))
        client.bind(0, '127.0.0.1', () => client.send('mapped', server.address().port, '127.0.0.1'))
      })
    })
  })
})

describe('batches', () => {
  it('many datagrams arrive as many message events, in order, each its own bytes', async () => {
    const server = createSocket('udp4')
    server.bind(0, '127.0.0.1')
    await once(server, 'listening')
    const client = createSocket('udp4')
    client.bind(0, '127.0.0.1')
    await once(client, 'listening')
    const N = 200
    const got: string[] = []
    const all = new Promise<void>((resolve) => {
      server.on('message', (msg, rinfo) => {
        expect(rinfo.size).toBe(msg.length)
        got.push(msg.toString())
        if (got.length === N) resolve()
      })
    })
    // Sent in one go, so the receiver finds many queued at once and takes them as a batch.
    for (let i = 0; i < N; i++) client.send(`datagram ${i}`, server.address().port, '127.0.0.1')
    await withTimeout(all, 5000, 'all datagrams')
    expect(got).toEqual(Array.from({ length: N }, (_, i) => `datagram ${i}`))
    client.close()
    server.close()
  })

  it('an exception in a message listener is uncaught at once, and the rest of the batch still arrives (as node:dgram)', async () => {
    const server = createSocket('unix_dgram')
    const { tempDir } = await import('./harness')
    const path = `${tempDir()}/batch.sock`
    server.bind(path)
    await once(server, 'listening')
    const client = createSocket('unix_dgram')
    const got: string[] = []
    const thrown: unknown[] = []
    const listeners = process.listeners('uncaughtException')
    process.removeAllListeners('uncaughtException')
    process.on('uncaughtException', (e) => thrown.push(e))
    try {
      const done = new Promise<void>((resolve) => {
        server.on('message', (msg) => {
          got.push(msg.toString())
          if (got.length === 5) setImmediate(resolve)
          if (msg.toString() === 'm1') throw new Error('listener failed')
        })
      })
      // unix sends complete synchronously, so all five wait in the kernel before the event
      // loop next polls the receiver, which then takes them as one batch.
      for (let i = 0; i < 5; i++) client.send(`m${i}`, path)
      await withTimeout(done, 5000, 'the whole batch')
    } finally {
      process.removeAllListeners('uncaughtException')
      for (const l of listeners) process.on('uncaughtException', l)
    }
    expect(got).toEqual(['m0', 'm1', 'm2', 'm3', 'm4'])
    expect(thrown).toHaveLength(1)
    expect((thrown[0] as Error).message).toBe('listener failed')
    client.close()
    server.close()
  })

  it('a message view stays valid after later batches arrive', async () => {
    const server = createSocket('udp4')
    server.bind(0, '127.0.0.1')
    await once(server, 'listening')
    const client = createSocket('udp4')
    const kept: Buffer[] = []
    const done = new Promise<void>((resolve) => {
      server.on('message', (msg) => {
        kept.push(msg)
        if (kept.length < 3) client.send(`next ${kept.length}`, server.address().port, '127.0.0.1')
        else resolve()
      })
    })
    client.send('next 0', server.address().port, '127.0.0.1')
    await withTimeout(done, 5000, 'three datagrams')
    expect(kept.map(String)).toEqual(['next 0', 'next 1', 'next 2'])
    client.close()
    server.close()
  })
})

describe('receive after close', () => {
  it('no message is emitted after close(), even if a batch was in flight (closed inside a listener)', async () => {
    const { tempDir } = await import('./harness')
    const path = `${tempDir()}/close.sock`
    const server = createSocket('unix_dgram')
    server.bind(path)
    await once(server, 'listening')
    const client = createSocket('unix_dgram')
    const got: string[] = []
    server.on('message', (msg) => {
      got.push(msg.toString())
      server.close()
    })
    const closed = once(server, 'close')
    // Queued together, delivered as one batch; closing in the first listener ends it.
    for (let i = 0; i < 4; i++) client.send(`c${i}`, path)
    await closed
    await new Promise((r) => setTimeout(r, 30))
    expect(got).toEqual(['c0'])
    client.close()
  })

  it('datagrams sent to a closed UDP socket are not delivered (differential)', async () => {
    await sameAsNode((ctx) => {
      const server = ctx.dgram.createSocket('udp4')
      server.on('message', () => ctx.rec('message after close'))
      server.bind(0, '127.0.0.1', () => {
        const port = server.address().port
        server.close(() => {
          ctx.rec('closed')
          const client = ctx.track(ctx.dgram.createSocket('udp4'))
          client.bind(0, '127.0.0.1', () => {
            client.send('late', port, '127.0.0.1', (err) => {
              ctx.rec('sent', err)
              setTimeout(() => ctx.done(), 30)
            })
          })
        })
      })
    })
  })
})

describe('garbage collection', () => {
  it('a GC between createSocket() and bind() does not cut message delivery', async () => {
    const script = `
      const server = dgram.createSocket('udp4');
      server.on('message', (m) => { console.log('got ' + m); server.close(); client.close(); });
      for (let i = 0; i < 3; i++) global.gc();
      server.bind(0, '127.0.0.1', () => client.send('after gc', server.address().port, '127.0.0.1'));
      const client = dgram.createSocket('udp4');
      setTimeout(() => { console.log('no message'); process.exit(1); }, 3000).unref();`
    const result = await runScript(script, 'dgramx', { args: ['--expose-gc'] })
    expect(result.stdout).toBe('got after gc\n')
    expect(result.code).toBe(0)
  })
})
