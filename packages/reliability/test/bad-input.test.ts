// Property-based bad input: random sequences of public calls with hostile arguments, on all
// three socket types. Every call either works or fails with a coded error (thrown, emitted as
// 'error', passed to a callback or escaping uncaught) — and afterwards the socket still
// closes cleanly. The process never aborts. Case counts are printed for the closing note.

import fc from 'fast-check'
import { createSocket, type Socket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { address, anyArg, anyNumber, udpCall, unixCall, type Call } from './arbitraries'
import { loopbackLookup, removeTmp } from './safety'

afterAll(removeTmp)

const RUNS = Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500)
let callsMade = 0

type Problem = [string, unknown]

function isCoded(e: unknown): boolean {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string'
}

function describeValue(e: unknown): string {
  if (e instanceof Error) return `${e.constructor.name} ${JSON.stringify((e as { code?: unknown }).code)} ${e.message}`
  return String(e)
}

/** Runs `calls` on a fresh socket and returns everything that was not a coded outcome. */
async function exercise(type: 'udp4' | 'udp6' | 'unix_dgram', calls: Call[]): Promise<Problem[]> {
  const problems: Problem[] = []
  const onUncaught = (e: unknown): void => {
    if (!isCoded(e)) problems.push(['uncaught without a code', describeValue(e)])
  }
  process.on('uncaughtException', onUncaught)
  try {
    const socket = createSocket((type === 'unix_dgram' ? { type } : { type, lookup: loopbackLookup }) as never) as unknown as Socket & Record<string, (...a: unknown[]) => unknown>
    socket.on('error', (e: unknown) => {
      if (!isCoded(e)) problems.push(['error event without a code', describeValue(e)])
    })
    let closed = false
    socket.on('close', () => (closed = true))
    const callback = (err?: unknown): void => {
      if (err != null && !isCoded(err)) problems.push(['callback error without a code', describeValue(err)])
    }
    for (const { method, args } of calls) {
      callsMade++
      const withCallbacks = args.map((a) => (typeof a === 'function' ? callback : a))
      try {
        socket[method](...withCallbacks)
      } catch (e) {
        if (!isCoded(e)) problems.push([`${method} threw without a code`, describeValue(e)])
      }
    }
    // Let lookups, nextTicks and immediate failures play out (bounded: two turns of the loop).
    await new Promise((r) => setImmediate(r))
    await new Promise((r) => setImmediate(r))
    try {
      socket.address()
    } catch (e) {
      if (!isCoded(e)) problems.push(['address() threw without a code', describeValue(e)])
    }
    try {
      socket.close()
    } catch (e) {
      if (!isCoded(e)) problems.push(['close() threw without a code', describeValue(e)])
    }
    for (let i = 0; i < 20 && !closed; i++) await new Promise((r) => setImmediate(r))
    if (!closed) problems.push(['no close event', type])
  } finally {
    await new Promise((r) => setImmediate(r))
    process.off('uncaughtException', onUncaught)
  }
  return problems
}

describe('hostile arguments never crash and always come with a code', () => {
  it.each([
    ['udp4', udpCall(4)],
    ['udp6', udpCall(6)],
    ['unix_dgram', unixCall],
  ] as const)('%s: random call sequences', async (type, call) => {
    const before = callsMade
    await fc.assert(
      fc.asyncProperty(fc.array(call, { minLength: 1, maxLength: 6 }), async (calls) => {
        expect(await exercise(type, calls)).toEqual([])
      }),
      { numRuns: RUNS },
    )
    console.log(`bad input (${type}): ${RUNS} sequences, ${callsMade - before} calls, all coded or successful`)
  })

  it('createSocket with arbitrary options', () => {
    let cases = 0
    fc.assert(
      fc.property(
        fc.oneof(
          anyArg,
          fc.record(
            {
              type: fc.oneof(fc.constantFrom('udp4', 'udp6', 'unix_dgram', 'udp', 'UDP4', ''), anyArg),
              reuseAddr: anyArg,
              reusePort: anyArg,
              ipv6Only: anyArg,
              recvBufferSize: anyNumber,
              sendBufferSize: anyNumber,
              lookup: fc.constantFrom<unknown>(undefined, null, 1, 'x', loopbackLookup),
              signal: fc.constantFrom<unknown>(undefined, null, {}, AbortSignal.abort()),
            },
            { requiredKeys: [] },
          ),
        ),
        address,
        (options, _unused) => {
          cases++
          let socket: { on(e: string, f: () => void): unknown; close(): unknown }
          try {
            socket = createSocket(options as never)
          } catch (e) {
            expect(isCoded(e), describeValue(e)).toBe(true)
            return
          }
          socket.on('error', () => {})
          try {
            socket.close()
          } catch (e) {
            // An aborted signal closes at creation; a second close is node:dgram's coded error.
            expect((e as { code?: string }).code).toBe('ERR_SOCKET_DGRAM_NOT_RUNNING')
          }
        },
      ),
      { numRuns: RUNS },
    )
    console.log(`bad input (createSocket): ${cases} option sets`)
  })
})
