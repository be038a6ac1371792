// Sends of one tick leave together (src/tick-queue.ts): one sendmmsg for a burst instead of
// one syscall each, with every send completing exactly as it would alone.
import { spawnSync } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import type { RemoteInfo } from 'node:dgram'
import { builtPackage } from './child'
import { sameAsNode } from './harness'
import { lacks } from './lacks'

describe('a burst of sends in one tick (differential)', () => {
  it('mixed destinations: every callback once, in order, with its byte count; every datagram arrives', async () => {
    await sameAsNode((ctx) => {
      const a = ctx.track(ctx.dgram.createSocket('udp4'))
      const b = ctx.track(ctx.dgram.createSocket('udp4'))
      const got: Record<string, string[]> = { A: [], B: [] }
      let expected = 40
      const onMessage = (name: string) => (msg: Buffer) => {
        got[name].push(msg.toString())
        if (--expected === 0) {
          ctx.rec('received', got.A.length, got.B.length, got.A.slice().sort(), got.B.slice().sort())
          ctx.done()
        }
      }
      a.on('message', onMessage('A'))
      b.on('message', onMessage('B'))
      a.bind(0, '127.0.0.1', () => {
        b.bind(0, '127.0.0.1', () => {
          const tx = ctx.track(ctx.dgram.createSocket('udp4'))
          const order: string[] = []
          for (let i = 0; i < 40; i++) {
            const to = i % 3 === 0 ? b : a
            tx.send(`m${i}`, to.address().port, '127.0.0.1', (err, bytes) => {
              order.push(`${i}:${err ? err.message : bytes}`)
              if (order.length === 40) ctx.rec('callbacks', order)
            })
          }
          ctx.rec('sent synchronously')
        })
      })
    })
  })

  it('an oversize datagram in the middle fails alone (EMSGSIZE); the others go through', async () => {
    await sameAsNode((ctx) => {
      const rx = ctx.track(ctx.dgram.createSocket('udp4'))
      const seen: string[] = []
      rx.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
        seen.push(`${msg.length}`)
        if (seen.length === 4) {
          ctx.rec('received', seen.sort(), rinfo.size)
          ctx.done()
        }
      })
      rx.bind(0, '127.0.0.1', () => {
        const port = rx.address().port
        ctx.alias(port, 'PORT')
        const tx = ctx.track(ctx.dgram.createSocket('udp4'))
        const results: unknown[] = []
        const sizes = [10, 20, 70000, 30, 40]
        sizes.forEach((size, i) => {
          tx.send(Buffer.alloc(size), port, '127.0.0.1', (err, bytes) => {
            results.push([i, err ? { code: (err as NodeJS.ErrnoException).code, message: err.message } : bytes])
            if (results.length === sizes.length) ctx.rec('callbacks', results)
          })
        })
      })
    })
  })

  it('close() in the same tick: no send callback runs, and close completes', async () => {
    await sameAsNode((ctx) => {
      const tx = ctx.track(ctx.dgram.createSocket('udp4'))
      tx.bind(0, '127.0.0.1', () => {
        const port = tx.address().port
        for (let i = 0; i < 5; i++) tx.send('x', port, '127.0.0.1', (err) => ctx.rec('callback', i, err))
        tx.close(() => {
          ctx.rec('closed')
          setTimeout(() => ctx.done(), 20)
        })
      })
    })
  })

  it('sends without callbacks and a send with one, interleaved with sendMany-free connected sends on another socket', async () => {
    await sameAsNode((ctx) => {
      const rx = ctx.track(ctx.dgram.createSocket('udp4'))
      const seen: string[] = []
      rx.on('message', (msg: Buffer) => {
        seen.push(msg.toString())
        if (seen.length === 6) {
          ctx.rec('received', seen.sort())
          ctx.done()
        }
      })
      rx.bind(0, '127.0.0.1', () => {
        const port = rx.address().port
        const tx = ctx.track(ctx.dgram.createSocket('udp4'))
        const connected = ctx.track(ctx.dgram.createSocket('udp4'))
        connected.connect(port, '127.0.0.1', () => {
          tx.send('u1', port, '127.0.0.1')
          connected.send('c1')
          tx.send('u2', port, '127.0.0.1', (err, bytes) => ctx.rec('u2 callback', err, bytes))
          connected.send('c2', (err, bytes) => ctx.rec('c2 callback', err, bytes))
          tx.send('u3', port, '127.0.0.1')
          connected.send('c3')
        })
      })
    })
  })
})

describe('a burst of sends in one tick, at the syscall level', () => {
  // strace counts the sending syscalls of a child process: 640 send() calls in one tick.
  const script = `
const dgram = require(${JSON.stringify(builtPackage)})
const sink = dgram.createSocket('udp4')
sink.bind(0, '127.0.0.1', () => {
  const port = sink.address().port
  const tx = dgram.createSocket('udp4')
  let done = 0
  for (let i = 0; i < 640; i++) {
    tx.send('x'.repeat(64), port, '127.0.0.1', () => {
      if (++done === 640) { tx.close(); sink.close() }
    })
  }
})
`
  it.skipIf(lacks('strace'))('640 sends leave as 10 sendmmsg calls of 64 and no single sends', () => {
    const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=sendto,sendmsg,sendmmsg', process.execPath, '-e', script], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(r.status).toBe(0)
    const calls = (name: string): number => {
      const line = r.stderr.split('\n').find((l) => l.trim().endsWith(` ${name}`))
      if (line === undefined) return 0
      return Number(line.trim().split(/\s+/)[3])
    }
    expect({ sendmmsg: calls('sendmmsg'), single: calls('sendto') + calls('sendmsg') }).toEqual({ sendmmsg: 10, single: 0 })
  })
})
