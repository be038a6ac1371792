// How the socket fits into the rest of Node: async context, diagnostics_channel, worker_threads
// (BlockList options: blocklist.test.ts).
import { AsyncLocalStorage } from 'node:async_hooks'
import diagnosticsChannel from 'node:diagnostics_channel'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { describe, expect, it } from 'vitest'
import { builtPackage, runScript } from './child'
import { sameAsNode, withTimeout } from './harness'

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
