// Property-based hunt for wrong send outcomes (issue: hardening, item 7 and its class): a
// unix_dgram sender fills its receiver, so sends queue, and close() comes at a generated point:
// right after some send, or inside some send's callback. Whatever the point, every callback
// runs exactly once and tells the truth about its datagram: success means the receiver got it,
// ECANCELED means it never arrived, and nothing arrives twice. A sender that retries on error
// relies on exactly this. Case counts are printed for the closing note.

import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import { createSocket, type UnixSocket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { tmp, removeTmp } from './safety'
import { until } from './wait'

afterAll(removeTmp)

const RUNS = Math.min(Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500), 150)
let cases = 0
let sends = 0
afterAll(() => console.log(`hardening: ${cases} cases — send outcomes with close() at any point (${sends} datagrams)`))

let run = 0

describe('send outcomes', () => {
  it('every callback runs once and reports what happened to its datagram, wherever close() comes', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 80 }).chain((n) =>
          fc.record({
            n: fc.constant(n),
            at: fc.integer({ min: 0, max: n - 1 }),
            // 'sync': close() right after send number `at`; 'callback': inside its callback.
            how: fc.constantFrom('sync', 'callback'),
          }),
        ),
        async ({ n, at, how }) => {
          cases++
          sends += n
          const where = path.join(tmp, `outcomes-${run++}.sock`)
          const r = createSocket('unix_dgram')
          const got: number[] = []
          r.on('message', (m) => got.push(m.readUInt32BE(0)))
          await new Promise<void>((resolve) => r.bind(where, resolve))
          const c: UnixSocket = createSocket('unix_dgram')
          const results = new Map<number, string[]>()
          for (let i = 0; i < n; i++) {
            const b = Buffer.alloc(16)
            b.writeUInt32BE(i, 0)
            c.send(b, where, (err) => {
              const seen = results.get(i) ?? []
              seen.push(err ? ((err as NodeJS.ErrnoException).code ?? 'uncoded') : 'ok')
              results.set(i, seen)
              if (how === 'callback' && i === at) c.close()
            })
            if (how === 'sync' && i === at) {
              c.close()
              break
            }
          }
          const asked = how === 'sync' ? at + 1 : n
          try {
            await until(() => results.size === asked, 'every send callback')
            const ok = [...results].filter(([, r]) => r[0] === 'ok').map(([i]) => i)
            await until(() => got.length >= ok.length, 'the datagrams reported sent')
            // A moment for anything that should not arrive (a cancelled datagram) to show up.
            await new Promise((resolve) => setTimeout(resolve, 10))
            for (const [i, r] of results) {
              expect(r, `send ${i}`).toHaveLength(1)
              expect(['ok', 'ECANCELED'], `send ${i}`).toContain(r[0])
            }
            expect(new Set(got).size, 'a datagram arrived twice').toBe(got.length)
            expect([...got].sort((a, b) => a - b), 'what arrived is what was reported sent').toEqual(ok)
          } finally {
            if (how === 'callback' && !results.has(at)) c.close()
            r.close()
            fs.rmSync(where, { force: true })
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})
