// Property-based hunt for half-states after a failed bind (issue: hardening, item 9 and its
// class): a unix_dgram socket whose bind fails, with connects and sends queued behind the bind
// in any order, must end in one state. Every queued call reports the bind's error exactly once,
// 'error' fires once (for the bind), nothing is delivered, and afterwards the socket is unbound
// and disconnected and works as a fresh one would: connect() succeeds and a send arrives.
// Case counts are printed for the closing note.

import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import { createSocket, type UnixSocket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { tmp, removeTmp } from './safety'
import { until } from './wait'

afterAll(removeTmp)

const RUNS = Math.min(Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500), 60)
let cases = 0
afterAll(() => console.log(`hardening: ${cases} cases — calls queued behind a failed bind (one state afterwards)`))

function bound(p: string): Promise<UnixSocket> {
  const s = createSocket('unix_dgram')
  return new Promise((resolve, reject) => {
    s.once('error', reject)
    s.bind(p, () => resolve(s))
  })
}

type Failure = 'taken' | 'missing-dir' | 'a-directory'
type Queued = { op: 'send' } | { op: 'connect' }

let run = 0

describe('a failed bind', () => {
  it('leaves one state, whatever was queued behind it', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom<Failure>('taken', 'missing-dir', 'a-directory'),
        // At most one connect (a second would be refused at once as already connecting).
        fc.array(fc.constant<Queued>({ op: 'send' }), { maxLength: 5 }),
        fc.option(fc.nat(5), { nil: undefined }),
        async (failure, sends, connectAt) => {
          cases++
          const dir = path.join(tmp, `fb-${run++}`)
          fs.mkdirSync(dir)
          const peerPath = path.join(dir, 'peer.sock')
          const peer = await bound(peerPath)
          const received: string[] = []
          peer.on('message', (m) => received.push(m.toString()))
          const holder = failure === 'taken' ? await bound(path.join(dir, 'taken.sock')) : undefined
          const target =
            failure === 'taken' ? path.join(dir, 'taken.sock') : failure === 'missing-dir' ? path.join(dir, 'nowhere', 'x.sock') : dir
          const queued: Queued[] = [...sends]
          if (connectAt !== undefined) queued.splice(Math.min(connectAt, queued.length), 0, { op: 'connect' })

          const s = createSocket('unix_dgram')
          const errors: string[] = []
          s.on('error', (e: NodeJS.ErrnoException) => errors.push(`${e.syscall} ${e.code}`))
          const reports: (NodeJS.ErrnoException | null | undefined)[][] = queued.map(() => [])
          s.bind({ path: target, unlinkExisting: false })
          let connecting = false
          queued.forEach((q, i) => {
            const report = (e?: Error | null): void => void reports[i].push(e as NodeJS.ErrnoException)
            // Behind a connect, a send names no destination (it goes to the connected peer).
            if (q.op === 'send' && connecting) s.send(`queued ${i}`, report)
            else if (q.op === 'send') s.send(`queued ${i}`, peerPath, report)
            else {
              s.connect(peerPath, report)
              connecting = true
            }
          })
          try {
            await until(() => errors.length > 0 && reports.every((r) => r.length > 0), 'the bind error and every queued report')
            // Give a second report or a stray datagram the time to show up.
            await new Promise((resolve) => setTimeout(resolve, 20))
            expect(errors).toHaveLength(1)
            const [syscall, code] = errors[0].split(' ')
            expect(syscall).toBe('bind')
            for (const r of reports) {
              expect(r).toHaveLength(1)
              expect(r[0]).toMatchObject({ syscall: 'bind', code })
            }
            expect(received).toEqual([])
            expect(() => s.remoteAddress()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' }))
            // A fresh socket's behaviour: connect, then a send that arrives.
            await new Promise<void>((resolve, reject) => s.connect(peerPath, (e?: Error) => (e ? reject(e) : resolve())))
            s.send('after')
            await until(() => received.length > 0, 'the send after the failure')
            expect(received).toEqual(['after'])
          } finally {
            s.close()
            peer.close()
            holder?.close()
          }
        },
      ),
      { numRuns: RUNS },
    )
  }, 120_000)
})
