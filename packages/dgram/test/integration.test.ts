// How the socket fits into the rest of Node: async context, diagnostics_channel, BlockList,
// worker_threads.
import { AsyncLocalStorage } from 'node:async_hooks'
import diagnosticsChannel from 'node:diagnostics_channel'
import { BlockList } from 'node:net'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { builtPackage, runScript } from './child'
import { referenceEval } from './runtime'
import { foreignRuntime, sameAsNode, withTimeout } from './harness'

describe('AsyncLocalStorage (differential)', () => {
  it('message sees the store of createSocket(); bind and send callbacks see the caller\'s', async () => {
    await sameAsNode((ctx) => {
      const als = new AsyncLocalStorage<string>()
      const server = als.run('created', () => ctx.track(ctx.dgram.createSocket('udp4')))
      server.on('message', () => {
        ctx.rec('message store', als.getStore())
        ctx.done()
      })
      als.run('binding', () => {
        server.bind(0, '127.0.0.1', () => {
          ctx.rec('bind callback store', als.getStore())
          const client = ctx.track(ctx.dgram.createSocket('udp4'))
          als.run('sending', () => {
            client.send('x', server.address().port, '127.0.0.1', () => ctx.rec('send callback store', als.getStore()))
          })
        })
      })
    })
  })
})

describe('AsyncLocalStorage after garbage collection (differential)', () => {
  // The creation context must survive a collection between createSocket() and the first
  // message (napi_async_init alone holds its resource weakly).
  const script = `
const { AsyncLocalStorage } = require('node:async_hooks')
const als = new AsyncLocalStorage()
const server = als.run('created', () => dgram.createSocket('udp4'))
server.on('message', () => {
  console.log(JSON.stringify(als.getStore()))
  server.close()
  client.close()
})
const client = dgram.createSocket('udp4')
server.bind(0, '127.0.0.1', () => {
  for (let i = 0; i < 3; i++) globalThis.gc()
  client.send('x', server.address().port, '127.0.0.1')
})
`
  it('message still sees the store of createSocket()', async () => {
    const results = []
    for (const impl of ['node', 'dgramx'] as const) {
      const r = await runScript(script, impl, { args: ['--expose-gc'] })
      results.push({ impl, stdout: r.stdout.trim(), stderr: r.stderr, code: r.code })
    }
    expect(results[0]).toEqual({ impl: 'node', stdout: '"created"', stderr: '', code: 0 })
    expect(results[1]).toEqual({ impl: 'dgramx', stdout: '"created"', stderr: '', code: 0 })
  })
})

describe('diagnostics_channel (differential)', () => {
  it('udp.socket publishes each new socket', async () => {
    await sameAsNode((ctx) => {
      const seen: unknown[] = []
      const onSocket = (message: unknown): void => {
        seen.push(message)
      }
      diagnosticsChannel.subscribe('udp.socket', onSocket)
      const s = ctx.dgram.createSocket('udp6')
      diagnosticsChannel.unsubscribe('udp.socket', onSocket)
      ctx.rec(seen.length, (seen[0] as { socket: unknown }).socket === s)
      s.close()
      ctx.done()
    })
  })
})

// The facade takes the BlockList options where the runtime's net.BlockList has isBlockList (as
// node:dgram does from Node 22.13/23.4); under Bun or Deno the recording may come from a Node
// that ignores them.
const blockListsDiffer =
  foreignRuntime &&
  (typeof (BlockList as unknown as { isBlockList?: unknown }).isBlockList === 'function') !==
    (referenceEval("typeof require('node:net').BlockList.isBlockList") === 'function')

describe.skipIf(blockListsDiffer)('BlockList options (differential; ignored where the running node:dgram ignores them)', () => {
  it('validation of the option types', async () => {
    await sameAsNode((ctx) => {
      for (const key of ['receiveBlockList', 'sendBlockList']) {
        try {
          const s = ctx.dgram.createSocket({ type: 'udp4', [key]: {} } as never)
          ctx.rec(key, 'accepted')
          s.close()
        } catch (e) {
          ctx.rec(key, e)
        }
      }
      ctx.done()
    })
  })

  it('a blocked destination fails the send callback; a blocked sender is dropped', async () => {
    await sameAsNode((ctx) => {
      const blocked = new BlockList()
      blocked.addAddress('127.0.0.1')
      const receiver = ctx.track(ctx.dgram.createSocket({ type: 'udp4', receiveBlockList: blocked } as never))
      receiver.on('message', (msg) => ctx.rec('received', msg))
      receiver.bind(0, '127.0.0.1', () => {
        const port = receiver.address().port
        ctx.alias(port, 'PORT')
        const sender = ctx.track(ctx.dgram.createSocket({ type: 'udp4', sendBlockList: blocked } as never))
        sender.bind(0, '127.0.0.1', () => {
          sender.send('to a blocked ip', port, '127.0.0.1', (err) => {
            ctx.rec('send callback', err)
            sender.connect(port, '127.0.0.1', (err2?: unknown) => {
              ctx.rec('connect callback', err2)
              const plain = ctx.track(ctx.dgram.createSocket('udp4'))
              plain.bind(0, '127.0.0.1', () => {
                plain.send('from a blocked ip', port, '127.0.0.1', () => setTimeout(() => ctx.done(), 30))
              })
            })
          })
        })
      })
    })
  })
})

describe('worker_threads', () => {
  it('several workers with their own sockets; a worker terminated with open sockets does not crash', async () => {
    const source = `
      const { parentPort, workerData } = require('node:worker_threads');
      const dgram = require(${JSON.stringify(builtPackage)});
      const server = dgram.createSocket('udp4');
      const unix = dgram.createSocket('unix_dgram');
      unix.bind(require('node:path').join(workerData.dir, 'w' + workerData.id + '.sock'));
      server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address));
      server.bind(0, '127.0.0.1', () => parentPort.postMessage(server.address().port));`
    const dir = (await import('./harness')).tempDir()
    const workers = [0, 1, 2].map((id) => new Worker(source, { eval: true, workerData: { id, dir } }))
    const ports = await withTimeout(
      Promise.all(workers.map((w) => new Promise<number>((resolve, reject) => {
        w.once('message', resolve)
        w.once('error', reject)
      }))),
      10_000,
      'workers to bind',
    )
    // Each worker echoes on its own socket.
    const { createSocket } = await import('../src/index')
    const client = createSocket('udp4')
    for (const port of ports) {
      const reply = new Promise<string>((resolve) => client.once('message', (m) => resolve(String(m))))
      client.send(`hello ${port}`, port, '127.0.0.1')
      expect(await withTimeout(reply, 5000, 'an echo')).toBe(`hello ${port}`)
    }
    client.close()
    // Terminated with their sockets open: exit codes 1 (terminated), no crash of this process.
    const codes = await Promise.all(workers.map((w) => w.terminate()))
    expect(codes).toEqual([1, 1, 1])
    expect(path.isAbsolute(dir)).toBe(true)
  })
})
