// bindSync / connectSync: present exactly where the running node:dgram has them (24.19+, 26.4+), and
// then behaving the same. On older Node both sides must lack them, and the differential cases
// are skipped (reported as skipped, not passed); .ci/run runs this file on Node 24 too.
import { describe, expect, it } from 'vitest'
import type { Socket as NodeSocket } from 'node:dgram'
import { nodeHas, SYNC_API } from '../src/version'
import { onNode, outcome, sameAsNode } from './harness'

/**
 * Whether the running node:dgram has them (the Node release Bun or Deno claims to be, whose
 * own node:dgram may lack them); the last test checks this against the real node:dgram.
 */
const hasSync = nodeHas(SYNC_API)

type SyncSocket = NodeSocket & {
  bindSync?: (options?: unknown) => unknown
  connectSync?: (port: unknown, address?: unknown) => unknown
}

describe('bindSync / connectSync (differential)', () => {
  it('exist on both or on neither', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4') as SyncSocket
      ctx.rec(typeof s.bindSync, typeof s.connectSync)
      s.close()
      ctx.done()
    })
  })

  const bindCases: [string, 'udp4' | 'udp6', unknown[]][] = [
    ['a numeric address', 'udp4', [{ port: 0, address: '127.0.0.1' }]],
    ['udp6 on ::1', 'udp6', [{ address: '::1' }]],
    ['a host name', 'udp4', [{ port: 0, address: 'localhost' }]],
    ['port -1', 'udp4', [{ port: -1, address: '127.0.0.1' }]],
    ['port "0"', 'udp4', [{ port: '0', address: '127.0.0.1' }]],
    ['a number instead of options', 'udp4', [0]],
    ['null options', 'udp4', [null]],
    ['an array', 'udp4', [[]]],
    ['a non-string address', 'udp4', [{ port: 0, address: 5 }]],
    ['an IPv4 address on udp6', 'udp6', [{ port: 0, address: '127.0.0.1' }]],
  ]
  it.runIf(hasSync).each(bindCases)('bindSync: %s', async (_n, type, args) => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket(type)) as SyncSocket
      s.on('listening', () => {
        ctx.rec('listening')
        ctx.done()
      })
      const result = outcome(() => s.bindSync!(...args))
      if (result.returned && typeof result.returned === 'object') {
        const a = result.returned as { address: string; family: string; port: number }
        ctx.rec('returned address', a.address, a.family, a.port > 0)
        ctx.rec('second bindSync', outcome(() => s.bindSync!({})))
      } else {
        ctx.rec(result)
        setTimeout(() => ctx.done(), 10)
      }
    })
  })

  it.runIf(hasSync)('bindSync EADDRINUSE throws with address and port, and leaves the socket unbound', async () => {
    await sameAsNode((ctx) => {
      const holder = ctx.track(ctx.dgram.createSocket('udp4')) as SyncSocket
      holder.bindSync!({ port: 0, address: '127.0.0.1' })
      ctx.alias(holder.address().port, 'PORT')
      const s = ctx.track(ctx.dgram.createSocket('udp4')) as SyncSocket
      ctx.rec(outcome(() => s.bindSync!({ port: holder.address().port, address: '127.0.0.1' })))
      ctx.rec(outcome(() => typeof s.bindSync!({ port: 0, address: '127.0.0.1' })))
      ctx.done()
    })
  })

  it.runIf(hasSync)('connectSync: validation, implicit bind, errors and events', async () => {
    await sameAsNode((ctx) => {
      const peer = ctx.track(ctx.dgram.createSocket('udp4')) as SyncSocket
      peer.bindSync!({ port: 0, address: '127.0.0.1' })
      ctx.alias(peer.address().port, 'PEER')
      const s = ctx.track(ctx.dgram.createSocket('udp4')) as SyncSocket
      s.on('listening', () => ctx.rec('listening'))
      s.on('connect', () => {
        ctx.rec('connect', s.remoteAddress())
        const t = ctx.track(ctx.dgram.createSocket('udp4')) as SyncSocket
        t.bind(0, '127.0.0.1')
        ctx.rec('while binding', outcome(() => t.connectSync!(peer.address().port, '127.0.0.1')))
        const v = ctx.track(ctx.dgram.createSocket('udp6')) as SyncSocket
        ctx.rec('wrong family', outcome(() => v.connectSync!(9, '127.0.0.1')))
        const w = ctx.dgram.createSocket('udp4') as SyncSocket
        w.close()
        ctx.rec('closed', outcome(() => w.connectSync!(0)))
        ctx.done()
      })
      ctx.rec(outcome(() => s.connectSync!(peer.address().port, 'localhost')))
      ctx.rec(outcome(() => s.connectSync!(0)))
      ctx.rec(outcome(() => s.connectSync!(peer.address().port, 5)))
      ctx.rec(outcome(() => s.connectSync!(peer.address().port, null)))
      ctx.rec(outcome(() => s.connectSync!(peer.address().port, '127.0.0.1')))
    })
  })
})

it('the running Node decides: the sync API is there exactly where node:dgram has it', async () => {
  // Recorded from the real Node release under Bun and Deno (whose own node:dgram is not it).
  const theirs = await onNode((d) => typeof (d.Socket.prototype as SyncSocket).bindSync)
  expect(theirs).toBe(nodeHas(SYNC_API) ? 'function' : 'undefined')
})
