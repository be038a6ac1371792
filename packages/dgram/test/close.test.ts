import { describe, expect, it } from 'vitest'
import type { Socket as NodeSocket } from 'node:dgram'
import { createSocket, kNative } from '../src/index'
import { errorShape, onNode, once, outcome, sameAsNode, withTimeout } from './harness'

describe('close (differential)', () => {
  it('emits close exactly once, on the next tick; the callback is a close listener; returns this', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.bind(0, '127.0.0.1', () => {
        s.on('close', function (this: unknown, ...args: unknown[]) {
          ctx.rec('close event', this === s, args.length)
        })
        const ret = s.close(() => ctx.rec('close callback'))
        ctx.rec('returned this', ret === s, s.listenerCount('close'))
        process.nextTick(() => ctx.rec('tick after close'))
        setTimeout(() => ctx.done(), 20)
      })
    })
  })

  it('a second close throws ERR_SOCKET_DGRAM_NOT_RUNNING, but its callback was added first', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp6')
      s.close()
      ctx.rec(outcome(() => s.close(() => ctx.rec('second callback'))))
      s.on('close', () => {
        ctx.rec('close')
        setTimeout(() => ctx.done(), 10)
      })
    })
  })

  it('an unbound socket closes too', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.close(() => {
        ctx.rec('closed')
        ctx.done()
      })
    })
  })

  const afterClose: [string, (s: NodeSocket) => unknown][] = [
    ['bind', (s) => s.bind(0)],
    ['address', (s) => s.address()],
    ['remoteAddress', (s) => s.remoteAddress()],
    ['addMembership', (s) => s.addMembership('224.0.0.114')],
    ['dropMembership', (s) => s.dropMembership('224.0.0.114')],
    ['addMembership without group', (s) => s.addMembership(undefined as never)],
    ['setMulticastInterface', (s) => s.setMulticastInterface('127.0.0.1')],
    ['setMulticastInterface(5)', (s) => s.setMulticastInterface(5 as never)],
    ['addSourceSpecificMembership', (s) => s.addSourceSpecificMembership('127.0.0.1', '232.1.1.1')],
    ['send with a good port', (s) => s.send('x', 1234, '127.0.0.1')],
    ['send with a bad port', (s) => s.send('x', 0)],
    ['disconnect (never connected)', (s) => s.disconnect()],
    ['connect on an unbound socket', (s) => s.connect(1234, '127.0.0.1')],
    ['connect with a bad port', (s) => s.connect(0)],
    ['setTTL with a string', (s) => s.setTTL('1' as never)],
    ['setRecvBufferSize(-1)', (s) => s.setRecvBufferSize(-1)],
    ['ref', (s) => s.ref() === s],
    ['unref', (s) => s.unref() === s],
    ['close', (s) => s.close()],
  ]
  it.each(afterClose)('%s after close', async (_name, call) => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.close(() => {
        ctx.rec(outcome(() => call(s)))
        ctx.done()
      })
    })
  })

  it('Symbol.asyncDispose closes and resolves after close; at once when already closed', async () => {
    await sameAsNode(async (ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.on('close', () => ctx.rec('close'))
      const dispose = (s as unknown as Record<symbol, () => Promise<unknown>>)[Symbol.asyncDispose]
      ctx.rec('is a function', typeof dispose)
      const result = await dispose.call(s)
      ctx.rec('resolved', result)
      ctx.rec('again', await dispose.call(s))
      ctx.done()
    })
  })
})

describe('calls after close where node:dgram crashes with an uncoded TypeError', () => {
  // node:dgram has no health check here and dereferences its null handle; we throw the coded
  // ERR_SOCKET_DGRAM_NOT_RUNNING instead (DIFFERENCES.md).
  const cases: [string, (s: NodeSocket) => unknown][] = [
    ['setBroadcast', (s) => s.setBroadcast(true)],
    ['setTTL', (s) => s.setTTL(64)],
    ['setMulticastTTL', (s) => s.setMulticastTTL(1)],
    ['setMulticastLoopback', (s) => s.setMulticastLoopback(true)],
    ['setRecvBufferSize', (s) => s.setRecvBufferSize(4096)],
    ['setSendBufferSize', (s) => s.setSendBufferSize(4096)],
    ['getRecvBufferSize', (s) => s.getRecvBufferSize()],
    ['getSendBufferSize', (s) => s.getSendBufferSize()],
    ['getSendQueueSize', (s) => s.getSendQueueSize()],
    ['getSendQueueCount', (s) => s.getSendQueueCount()],
  ]
  it.each(cases)('%s', async (_name, call) => {
    const nodeOutcome = await onNode(async () => {
      const closed = await createClosed('node')
      return outcome(() => call(closed))
    })
    const mine = await createClosed('dgramx')
    const ourOutcome = outcome(() => call(mine))
    expect((nodeOutcome.threw as Record<string, unknown>).class).toBe('TypeError')
    expect((nodeOutcome.threw as Record<string, unknown>).code).toBeUndefined()
    expect(ourOutcome.threw).toMatchObject({ class: 'Error', code: 'ERR_SOCKET_DGRAM_NOT_RUNNING', message: 'Not running' })
  })

  it('disconnect on a connected socket after close', async () => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    s.connect(s.address().port, '127.0.0.1')
    await once(s, 'connect')
    s.close()
    expect(errorShape(outcome(() => s.disconnect()).threw)).toBeDefined()
    expect(() => s.disconnect()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })

  it('connect on a bound socket after close', async () => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    s.close()
    expect(() => s.connect(1234, '127.0.0.1')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })
})

async function createClosed(which: 'node' | 'dgramx'): Promise<NodeSocket> {
  const d = which === 'node' ? await import('node:dgram') : ((await import('../src/index')) as unknown as typeof import('node:dgram'))
  const s = d.createSocket('udp4')
  s.bind(0, '127.0.0.1')
  await once(s, 'listening')
  s.close()
  return s
}

describe('close and native resources', () => {
  it('close releases the descriptor', async () => {
    const s = createSocket('udp4')
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    const fd = s[kNative]!.fd()
    expect(fd).toBeGreaterThan(2)
    s.close()
    expect(s[kNative]).toBeNull()
    await once(s, 'close')
  })

  it('a send still queued in the kernel buffer when the socket closes gets ECANCELED', async () => {
    const { tempDir } = await import('./harness')
    const path = `${tempDir()}/full.sock`
    const receiver = createSocket('unix_dgram')
    receiver.bind(path)
    await once(receiver, 'listening')
    receiver.close()
    await once(receiver, 'close')
    // A peer that exists but never reads: a plain native socket bound to the path.
    const { NativeSocket } = await import('../src/native')
    const peer = new NativeSocket('unix_dgram', () => {})
    peer.bindUnix(Buffer.from(`${path}.2`))
    const sender = createSocket('unix_dgram')
    const results: unknown[] = []
    // The peer's queue fills (max_dgram_qlen), later sends wait in our queue.
    for (let i = 0; i < 64; i++) sender.send(Buffer.alloc(1000), `${path}.2`, (err, n) => results.push(err ? (err as NodeJS.ErrnoException).code : n))
    await new Promise((r) => setTimeout(r, 20))
    expect(sender.getSendQueueCount()).toBeGreaterThan(0)
    const closed = once(sender, 'close')
    sender.close()
    await closed
    await withTimeout(
      (async () => {
        while (results.length < 64) await new Promise((r) => setTimeout(r, 5))
      })(),
      5000,
      'every send callback',
    )
    expect(results.filter((r) => r === 1000).length).toBeGreaterThan(0)
    expect(results.filter((r) => r === 'ECANCELED').length).toBeGreaterThan(0)
    expect(results.every((r) => r === 1000 || r === 'ECANCELED')).toBe(true)
    peer.close()
  })
})
