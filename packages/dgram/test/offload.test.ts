// Opt-in UDP offload (beyond node:dgram): createSocket({ gso: true }) makes sendMany() use GSO
// for runs of equal-sized datagrams, createSocket({ gro: true }) receives coalesced reads that
// are split back into the datagrams as sent. Either way the receiver must see exactly what a
// plain sender would have produced: same datagrams, same sizes, same order.
import { spawnSync } from 'node:child_process'
import { afterEach, describe, expect, it } from 'vitest'
import { createSocket, kNative, type BatchSocket } from '../src/index'
import { builtPackage } from './child'
import { once, until } from './harness'
import { lacks } from './lacks'

const opened: BatchSocket[] = []
afterEach(() => {
  for (const s of opened.splice(0)) {
    try {
      s.close()
    } catch {
      // already closed
    }
  }
})

const host = (type: 'udp4' | 'udp6'): string => (type === 'udp4' ? '127.0.0.1' : '::1')

async function bound(type: 'udp4' | 'udp6', options: { gso?: boolean; gro?: boolean } = {}): Promise<BatchSocket> {
  const s = createSocket({ type, ...options })
  opened.push(s)
  s.bind(0, host(type))
  await once(s, 'listening')
  return s
}

function collect(s: BatchSocket): Buffer[] {
  const got: Buffer[] = []
  s.on('message', (m) => got.push(Buffer.from(m)))
  return got
}

/** Datagram i: `size` bytes, each byte i (mod 256), so order and boundaries are checkable. */
function datagrams(sizes: number[]): Buffer[] {
  return sizes.map((n, i) => Buffer.alloc(n, i & 0xff))
}

describe.each(['udp4', 'udp6'] as const)('%s offload', (type) => {
  it('gso: sendMany delivers equal-sized runs (and a shorter tail) datagram by datagram', async () => {
    const rx = await bound(type)
    const got = collect(rx)
    const tx = await bound(type, { gso: true })
    // More than one run's worth (64) of small datagrams, a run of 1200 with a shorter tail,
    // then sizes that break runs. Few enough bytes for the default receive buffer.
    const sizes = [...Array(100).fill(64), ...Array(30).fill(1200), 700, 1200, 1200, 64, 3000, 1]
    const sent = datagrams(sizes)
    const [err, n] = await new Promise<[Error | null, number]>((res) => tx.sendMany(sent, rx.address().port, host(type), (e, k) => res([e, k])))
    expect(err).toBeNull()
    expect(n).toBe(sizes.reduce((a, b) => a + b, 0))
    await until(() => got.length >= sent.length, 'every datagram arrives')
    expect(got.map((b) => b.length)).toEqual(sizes)
    expect(got.every((b, i) => b.equals(sent[i]))).toBe(true)
  })

  it('gro: coalesced GSO sends are split back into the datagrams as sent', async () => {
    const rx = await bound(type, { gro: true })
    const got = collect(rx)
    const tx = await bound(type, { gso: true })
    const sizes = [...Array(40).fill(1000), 300]
    const sent = datagrams(sizes)
    await new Promise((res) => tx.sendMany(sent, rx.address().port, host(type), res))
    await until(() => got.length >= sent.length, 'every datagram arrives')
    expect(got.map((b) => b.length)).toEqual(sizes)
    expect(got.every((b, i) => b.equals(sent[i]))).toBe(true)
  })

  it('without gso, sendMany still sends the same datagrams (sendmmsg)', async () => {
    const rx = await bound(type, { gro: true })
    const got = collect(rx)
    const tx = await bound(type)
    const sizes = [...Array(100).fill(512), 10]
    const sent = datagrams(sizes)
    await new Promise((res) => tx.sendMany(sent, rx.address().port, host(type), res))
    await until(() => got.length >= sent.length, 'every datagram arrives')
    expect(got.map((b) => b.length)).toEqual(sizes)
  })
})

describe('offload probing', () => {
  it('the binding reports whether GSO works, and gso/gro are refused on unix_dgram (UDP-only)', async () => {
    const s = await bound('udp4')
    expect(typeof s[kNative]!.gsoSupported()).toBe('boolean')
    expect(() => createSocket({ type: 'unix_dgram', gso: true } as never)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    expect(() => createSocket({ type: 'unix_dgram', gro: true } as never)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
  })
})

// Delivery alone cannot tell GSO from its fallback (the first refusal turns GSO off for good
// and sendMany goes on with sendmmsg), so the syscalls are counted: 100 equal datagrams with
// gso must leave as two sendmsg calls (a run of 64 segments, the kernel's most, and one of 36),
// without it as sendmmsg.
describe('gso at the syscall level', () => {
  const script = (gso: boolean): string => `
const dgram = require(${JSON.stringify(builtPackage)})
const rx = dgram.createSocket('udp4')
rx.bind(0, '127.0.0.1', () => {
  const tx = dgram.createSocket({ type: 'udp4', gso: ${gso} })
  tx.bind(0, '127.0.0.1', () => {
    const sent = Array.from({ length: 100 }, (_, i) => Buffer.alloc(64, i))
    tx.sendMany(sent, rx.address().port, '127.0.0.1', (err) => {
      if (err) { console.error(err); process.exit(1) }
      tx.close(); rx.close()
    })
  })
})
`
  const count = (gso: boolean): Record<string, number> => {
    const r = spawnSync('strace', ['-f', '-c', '-e', 'trace=sendto,sendmsg,sendmmsg', process.execPath, '-e', script(gso)], {
      encoding: 'utf8',
      timeout: 30_000,
    })
    expect(r.status, r.stderr).toBe(0)
    const calls = (name: string): number => {
      const line = r.stderr.split('\n').find((l) => l.trim().endsWith(` ${name}`))
      return line === undefined ? 0 : Number(line.trim().split(/\s+/)[3])
    }
    return { sendmsg: calls('sendmsg'), sendmmsg: calls('sendmmsg'), sendto: calls('sendto') }
  }

  it.skipIf(lacks('strace'))('gso: 100 datagrams of 64 B leave as 2 sendmsg calls (64 + 36 segments)', () => {
    expect(count(true)).toEqual({ sendmsg: 2, sendmmsg: 0, sendto: 0 })
  })

  it.skipIf(lacks('strace'))('without gso: the same 100 leave through sendmmsg, not one call each', () => {
    const c = count(false)
    expect(c.sendmmsg).toBeGreaterThan(0)
    expect(c.sendmsg + c.sendto + c.sendmmsg).toBeLessThanOrEqual(4)
  })
})
