// Property-based hunts for the classes of defect hostile testing found (issue: hardening), not
// only their first instances:
// - framing characters smuggled into text protocols (sd-notify, syslog);
// - strings truncated at an embedded NUL on their way into the kernel;
// - arguments read more than once (getters, Proxies) so that what was validated is not what is used;
// - UDP-only calls on unix_dgram sockets answering in more than one way.
// Case counts are printed for the closing note.

import fc from 'fast-check'
import fs from 'node:fs'
import path from 'node:path'
import { createSocket } from '@dgramx/dgram'
import { formatNotify } from '@dgramx/dgram/sd-notify'
import { formatSyslog } from '@dgramx/dgram/syslog'
import { afterAll, describe, expect, it } from 'vitest'
import { tmp, removeTmp } from './safety'

afterAll(removeTmp)

const RUNS = Number(process.env.DGRAMX_FUZZ_RUNS ?? 1500)
const counts: Record<string, number> = {}
afterAll(() => {
  for (const [name, n] of Object.entries(counts)) console.log(`hardening: ${n} cases — ${name}`)
})
const count = (name: string): void => {
  counts[name] = (counts[name] ?? 0) + 1
}

const code = (fn: () => unknown): string | undefined => {
  try {
    fn()
    return undefined
  } catch (e) {
    const c = (e as { code?: unknown }).code
    if (typeof c !== 'string') throw new Error(`an uncoded error: ${String(e)}`)
    return c
  }
}

/** Text with framing characters mixed in often. */
const hostileText = fc.array(fc.oneof(fc.constantFrom('\n', '\r', '\0', ' ', ':', '[', ']', '=', '"', '\\', '\t', '\u2028', 'é'), fc.string({ maxLength: 4 })), { maxLength: 8 }).map((parts) => parts.join(''))

describe('framing characters in text protocols', () => {
  it('sd-notify: every formatted notification has exactly the assignments asked for, or the call is refused', () => {
    fc.assert(
      fc.property(fc.record({ status: hostileText, busError: hostileText, fdname: hostileText, extra: fc.dictionary(fc.constantFrom('X_A', 'X_B'), hostileText) }, { requiredKeys: [] }), (state) => {
        count('sd-notify state with hostile values')
        let text: string
        try {
          text = formatNotify({ ready: true, ...state })
        } catch (e) {
          expect((e as { code?: string }).code).toBe('ERR_INVALID_ARG_VALUE')
          const values = [state.status, state.busError, state.fdname, ...Object.values(state.extra ?? {})]
          expect(values.some((v) => v !== undefined && /[\n\r\0]/.test(v))).toBe(true)
          return
        }
        expect(text).not.toContain('\0')
        // systemd splits at both LF and CR: one assignment per key we set, READY=1 first.
        const assignments = text.split(/[\n\r]/)
        const expected = 1 + [state.status, state.busError, state.fdname].filter((v) => v !== undefined).length + Object.keys(state.extra ?? {}).length
        expect(assignments).toHaveLength(expected)
        expect(assignments[0]).toBe('READY=1')
      }),
      { numRuns: RUNS },
    )
  })

  it('syslog: header fields never carry a framing character; the message is the last field', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('rfc3164', 'rfc5424'),
        hostileText,
        hostileText,
        hostileText,
        fc.dictionary(fc.constantFrom('a@1', 'b@2'), fc.dictionary(fc.constantFrom('k', 'v'), hostileText)),
        (format, appName, hostname, msgId, structuredData) => {
          count('syslog header fields with hostile values')
          let out: string
          try {
            out = formatSyslog('info', 'MSG', { format, appName, hostname, msgId: format === 'rfc5424' ? msgId : undefined, pid: false, structuredData: format === 'rfc5424' ? structuredData : undefined }).toString()
          } catch (e) {
            expect((e as { code?: string }).code).toBe('ERR_INVALID_ARG_VALUE')
            return
          }
          // Everything before the message is one line of printable header text.
          const header = out.slice(0, out.lastIndexOf('MSG'))
          expect(header).not.toMatch(/[\n\r\0]/)
          expect(out.endsWith('MSG')).toBe(true)
          if (format === 'rfc3164') {
            // The TAG is exactly the appName: nothing in it can end it early.
            expect(header.endsWith(`${appName}: `)).toBe(true)
            expect(appName).not.toMatch(/[\s:[\]]/)
          }
        },
      ),
      { numRuns: RUNS },
    )
  })
})

describe('strings truncated at NUL on the way into the kernel', () => {
  it('bindToDevice, unix paths and multicast addresses with an embedded NUL are refused, never truncated', async () => {
    const udp = createSocket('udp4')
    const unix = createSocket('unix_dgram')
    fc.assert(
      fc.property(fc.string({ maxLength: 10 }), fc.string({ maxLength: 10 }), (before, after) => {
        count('strings with an embedded NUL')
        const withNul = `${before}\0${after}`
        if (process.platform === 'linux') expect(code(() => udp.bindToDevice(`lo${withNul}`))).toBe('ERR_INVALID_ARG_VALUE')
        // A filesystem path may not hold NUL (only an abstract name starts with one).
        expect(code(() => unix.send('x', path.join(tmp, `p${withNul}`)))).toBe('ERR_INVALID_ARG_VALUE')
        expect(code(() => unix.connect(path.join(tmp, `p${withNul}`)))).toBe('ERR_INVALID_ARG_VALUE')
        // Addresses are parsed whole: '224.0.0.1\0…' is not 224.0.0.1.
        expect(code(() => udp.addMembership(`224.0.0.1${withNul}`))).not.toBe(undefined)
        expect(code(() => udp.setMulticastInterface(`127.0.0.1${withNul}`))).not.toBe(undefined)
      }),
      { numRuns: RUNS },
    )
    udp.close()
    unix.close()
  })
})

describe('arguments read exactly once', () => {
  it('sendWithFds reads each descriptor once, whatever the getters do', async () => {
    const file = path.join(tmp, 'fd-source')
    fs.writeFileSync(file, 'x')
    const fd = fs.openSync(file, 'r')
    const sink = path.join(tmp, 'read-once.sock')
    const receiver = createSocket({ type: 'unix_dgram', receiveFds: true })
    const received: number[][] = []
    receiver.on('message', (_m, rinfo) => {
      received.push(rinfo.fds ?? [])
      for (const f of rinfo.fds ?? []) fs.closeSync(f)
    })
    await new Promise<void>((resolve) => receiver.bind(sink, resolve))
    const sender = createSocket('unix_dgram')
    const outcomes: Promise<void>[] = []
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 4 }), fc.array(fc.constantFrom(fd, -1, 2 ** 40, 1.5, 'x', undefined), { minLength: 1, maxLength: 4 }), (n, later) => {
        count('fds arrays whose getters change their answer')
        const reads = new Map<string, number>()
        // The first read of each index is a valid descriptor; every later read something else.
        const hostile = new Proxy(Array(n).fill(fd), {
          get(target, key, receiver_) {
            if (typeof key === 'string' && /^\d+$/.test(key)) {
              const seen = reads.get(key) ?? 0
              reads.set(key, seen + 1)
              return seen === 0 ? fd : later[seen % later.length]
            }
            return Reflect.get(target, key, receiver_)
          },
        })
        outcomes.push(
          new Promise((resolve, reject) =>
            sender.sendWithFds('x', hostile, sink, (err) => {
              if (err) reject(err)
              else resolve()
            }),
          ),
        )
        for (const seen of reads.values()) expect(seen).toBe(1)
        expect(reads.size).toBe(n)
      }),
      { numRuns: Math.min(RUNS, 300) },
    )
    await Promise.all(outcomes)
    fs.closeSync(fd)
    sender.close()
    receiver.close()
  })

  it('a Proxy around a Buffer is never taken as a unix path', () => {
    const unix = createSocket('unix_dgram')
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 1, maxLength: 40 }), (bytes) => {
        count('Proxy-wrapped Buffers as unix paths')
        const fake = new Proxy(Buffer.from(bytes), {})
        expect(code(() => unix.send('x', fake as never))).toBe('ERR_INVALID_ARG_TYPE')
        expect(code(() => unix.connect(fake as never))).toBe('ERR_INVALID_ARG_TYPE')
      }),
      { numRuns: RUNS },
    )
    unix.close()
  })
})

describe('UDP-only calls on a unix_dgram socket', () => {
  const udpOnly = ['setBroadcast', 'setTTL', 'setMulticastTTL', 'setMulticastLoopback', 'setMulticastInterface', 'addMembership', 'dropMembership', 'addSourceSpecificMembership', 'dropSourceSpecificMembership', 'setRecvErrors', 'setTOS', 'getTOS', 'bindToDevice', 'setMTUDiscover', 'getPathMTU', 'sendWith']
  it('every one answers ERR_SOCKET_DGRAM_UNSUPPORTED, whatever its arguments', () => {
    const unix = createSocket('unix_dgram') as unknown as Record<string, (...a: unknown[]) => unknown> & { close(): void }
    fc.assert(
      fc.property(fc.constantFrom(...udpOnly), fc.array(fc.oneof(fc.anything(), fc.constantFrom('224.0.0.1', '127.0.0.1', 64, true)), { maxLength: 3 }), (method, args) => {
        count('UDP-only calls with arbitrary arguments on unix_dgram')
        expect(code(() => unix[method](...args))).toBe('ERR_SOCKET_DGRAM_UNSUPPORTED')
      }),
      { numRuns: RUNS },
    )
    unix.close()
  })
})
