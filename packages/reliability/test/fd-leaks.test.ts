// Property-based hunt for leaked received descriptors (issue: hardening, item 8 and its class):
// datagrams carrying descriptors arrive while the receiver leaves at a generated point, by a
// generated path: breaking out of promises.messages(), closing the socket from a 'message'
// listener, or having no listener at all. Whatever the path, once both sockets are closed the
// process holds exactly the descriptors it held before. Case counts are printed for the
// closing note.

import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import { createSocket, promises, type UnixRemoteInfo } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { tmp, removeTmp } from './safety'

afterAll(removeTmp)

const RUNS = Math.min(Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500), 100)
let cases = 0
let passed = 0
afterAll(() => console.log(`hardening: ${cases} cases — received descriptors on every way out (${passed} descriptors passed)`))

const openFds = (): number => fs.readdirSync('/proc/self/fd').length
const pause = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

let run = 0

describe('received descriptors', () => {
  it.runIf(process.platform === 'linux')('none outlives the sockets, whichever way the receiver leaves', async () => {
    const file = path.join(tmp, 'fd-payload')
    fs.writeFileSync(file, 'x')
    // The binding's poller and wake-up descriptors are created once, with the first socket: a
    // socket made and closed first keeps them out of every count below.
    const warm = createSocket({ type: 'unix_dgram', receiveFds: true })
    await promises.bind(warm, path.join(tmp, 'fds-warm.sock'))
    warm.close()
    await pause(5)
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 12 }).chain((k) =>
          fc.record({
            k: fc.constant(k),
            perDatagram: fc.integer({ min: 1, max: 3 }),
            // How many datagrams the receiver takes (and closes the descriptors of) before leaving.
            taken: fc.integer({ min: 0, max: k }),
            way: fc.constantFrom('break messages()', 'close in listener', 'no listener'),
          }),
        ),
        async ({ k, perDatagram, taken, way }) => {
          cases++
          passed += k * perDatagram
          const where = path.join(tmp, `fds-${run++}.sock`)
          const fd = fs.openSync(file, 'r')
          const before = openFds()
          const r = createSocket({ type: 'unix_dgram', receiveFds: true })
          await promises.bind(r, where)
          const c = createSocket('unix_dgram')
          // Closing the sender cancels what still waits (ECANCELED) and closes its duplicates.
          const send = (): void => {
            for (let i = 0; i < k; i++) c.sendWithFds(`m${i}`, Array(perDatagram).fill(fd), where, () => {})
          }
          const closeAll = (fds: number[] | undefined): void => (fds ?? []).forEach((f) => fs.closeSync(f))
          if (way === 'break messages()') {
            const iterator = promises.messages(r)
            send()
            for (let i = 0; i < taken; i++) {
              const next = await iterator.next()
              closeAll((next.value!.rinfo as UnixRemoteInfo).fds)
            }
            // Let the rest arrive into the iterator's buffer before leaving.
            await pause(20)
            await iterator.return!()
          } else if (way === 'close in listener') {
            let seen = 0
            const closed = new Promise<void>((resolve) => r.once('close', resolve))
            r.on('message', (_m, rinfo) => {
              closeAll(rinfo.fds)
              if (++seen === taken) r.close()
            })
            send()
            if (taken === 0) r.close()
            await closed
          } else {
            send()
            await pause(20)
          }
          if (way !== 'close in listener') r.close()
          c.close()
          await pause(5)
          fs.closeSync(fd)
          fs.rmSync(where, { force: true })
          expect(openFds(), `${way}: descriptors left open`).toBe(before - 1)
        },
      ),
      { numRuns: RUNS },
    )
  })
})
