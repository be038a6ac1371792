// Property-based hunt for head-of-line blocking in the send queue (issue: hardening, item 5):
// one unix_dgram socket sends to several peers, some of which stop reading. Whatever the peers,
// which of them are stuck and the order of the sends: every peer that reads gets all of its
// datagrams, once and in order, while the stuck ones' wait; and once they read, theirs arrive
// in order too. Case counts are printed for the closing note.

import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import { Socket, createSocket, type UnixSocket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { tmp, removeTmp } from './safety'
import { until } from './wait'

afterAll(removeTmp)

const RUNS = Math.min(Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500), 40)
let cases = 0
let sends = 0
afterAll(() => console.log(`hardening: ${cases} cases — send queue head-of-line blocking (some peers stuck; ${sends} datagrams)`))

// The named export `kNative` arrives undefined through vitest's interop of the ESM face (it
// takes the CommonJS default object, which has no kNative), so it is looked up by name.
const kNative = Object.getOwnPropertySymbols(Socket.prototype).find((k) => k.description === 'dgramx.native')!
type Native = { recvStop(): void; recvStart(): void }
const native = (s: UnixSocket): Native => (s as unknown as Record<symbol, Native>)[kNative]

let run = 0

describe('send queue: a stuck peer holds up only itself', () => {
  it('every reading peer gets its datagrams in order while others are stuck; the stuck ones get theirs in order once they read', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 2, max: 5 }).chain((n) =>
          fc.record({
            stuck: fc.array(fc.boolean(), { minLength: n, maxLength: n }).filter((s) => s.some((x) => !x) && s.some((x) => x)),
            order: fc.array(fc.integer({ min: 0, max: n - 1 }), { minLength: 60, maxLength: 400 }),
          }),
        ),
        async ({ stuck, order }) => {
          cases++
          sends += order.length
          const dir = path.join(tmp, `fair-${run++}`)
          fs.mkdirSync(dir)
          const peers: { s: UnixSocket; got: number[]; where: string }[] = []
          for (let i = 0; i < stuck.length; i++) {
            const where = path.join(dir, `p${i}.sock`)
            const s = createSocket('unix_dgram')
            const got: number[] = []
            s.on('message', (m) => got.push(m.readUInt32BE(0)))
            await new Promise<void>((resolve) => s.bind(where, resolve))
            if (stuck[i]) native(s).recvStop()
            peers.push({ s, got, where })
          }
          const sender = createSocket('unix_dgram')
          const sent: number[][] = stuck.map(() => [])
          for (const p of order) {
            const k = sent[p]!.length
            sent[p]!.push(k)
            const b = Buffer.alloc(8)
            b.writeUInt32BE(k, 0)
            sender.send(b, peers[p]!.where)
          }
          try {
            await until(() => peers.every((peer, i) => stuck[i] || peer.got.length === sent[i]!.length), 'the reading peers')
            peers.forEach((peer, i) => {
              if (!stuck[i]) expect(peer.got).toEqual(sent[i])
            })
            peers.forEach((peer, i) => stuck[i] && native(peer.s).recvStart())
            await until(() => peers.every((peer, i) => peer.got.length === sent[i]!.length), 'the stuck peers once they read')
            peers.forEach((peer, i) => expect(peer.got).toEqual(sent[i]))
            await until(() => sender.getSendQueueCount() === 0, 'the queue to empty')
          } finally {
            sender.close()
            for (const peer of peers) peer.s.close()
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})
