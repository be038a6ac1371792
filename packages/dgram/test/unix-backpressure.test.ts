// Backpressure on unix_dgram: a receiver that cannot keep up (max_dgram_qlen is small, 10 on
// Linux by default) makes sends queue in order; nothing is lost, connected or not. The queue
// can be bounded (sendQueueLimit → ERR_SOCKET_DGRAM_QUEUE_FULL) and 'drain' tells when it
// has emptied. No timing is asserted: only counts and order, with bounded waits.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixSocket } from '../src/index'
import { builtPackage } from './child'
import { once, outcome, tempDir, until, withTimeout } from './harness'
import { lacks } from './lacks'
import { childDrivers, runtimeCommand } from './runtime'
import { timeScale } from './time-scale'

const N = 200_000
const UNBOUNDED = { bytes: Infinity, datagrams: Infinity, perDestination: { bytes: Infinity, datagrams: Infinity } }

/**
 * A receiver in its own process, slowed down on purpose: every 2,000 datagrams it spins for a
 * while before reading on. It checks that datagram i carries i, and prints a summary at N.
 */
function slowReceiver(p: string, n: number): { child: ChildProcessWithoutNullStreams; ready: Promise<void>; result: Promise<{ received: number; outOfOrder: number; firstBad: number | null }> } {
  const source = `
    const dgram = require(${JSON.stringify(builtPackage)});
    const s = dgram.createSocket('unix_dgram');
    let expected = 0, outOfOrder = 0, firstBad = null, sink = 0;
    s.on('message', (m) => {
      const i = m.readUInt32BE(0);
      if (i !== expected) { outOfOrder++; if (firstBad === null) firstBad = expected; }
      expected = i + 1;
      if (expected % 2000 === 0) for (let k = 0; k < 300000; k++) sink += k;
      if (expected === ${n}) {
        console.log(JSON.stringify({ received: expected, outOfOrder, firstBad }));
        s.close();
      }
    });
    s.bind(${JSON.stringify(p)}, () => console.log('ready'));`
  const child = spawn(process.execPath, ['-e', source], { stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  let onReady: () => void
  const ready = new Promise<void>((resolve) => (onReady = resolve))
  const result = new Promise<{ received: number; outOfOrder: number; firstBad: number | null }>((resolve, reject) => {
    child.stdout.on('data', (d: Buffer) => {
      out += d.toString()
      if (out.startsWith('ready\n')) onReady()
    })
    child.stderr.on('data', (d: Buffer) => (err += d.toString()))
    child.on('close', (code) => {
      const last = out.trim().split('\n').pop() ?? ''
      if (code === 0 && last.startsWith('{')) resolve(JSON.parse(last))
      else reject(new Error(`receiver exited with ${code}: ${err || out}`))
    })
  })
  return { child, ready, result }
}

function datagram(i: number): Buffer {
  const b = Buffer.alloc(16, 0x2a)
  b.writeUInt32BE(i, 0)
  return b
}

async function flood(connected: boolean): Promise<void> {
  const p = path.join(tempDir(), 'slow.sock')
  const receiver = slowReceiver(p, N)
  try {
    await withTimeout(receiver.ready, 15_000, 'the receiver to bind')
    // Every bound lifted: this is about an unbounded queue losing nothing.
    const sender = createSocket({ type: 'unix_dgram', sendQueueLimit: UNBOUNDED })
    if (connected) {
      sender.connect(p)
      await once(sender, 'connect')
    }
    let ok = 0
    let failed: Error | null = null
    let drains = 0
    sender.on('drain', () => drains++)
    const allSent = new Promise<void>((resolve) => {
      const cb = (err: Error | null): void => {
        if (err) failed ??= err
        else ok++
        if (ok === N) resolve()
      }
      for (let i = 0; i < N; i++) {
        if (connected) sender.send(datagram(i), cb)
        else sender.send(datagram(i), p, cb)
      }
    })
    // The receiver cannot have kept up with a synchronous loop: most of it is queued.
    expect(sender.getSendQueueCount()).toBeGreaterThan(N / 2)
    expect(sender.getSendQueueSize()).toBe(sender.getSendQueueCount() * 16)
    await withTimeout(allSent, 120_000, `${N} send callbacks`)
    expect(failed).toBeNull()
    expect(sender.getSendQueueCount()).toBe(0)
    expect(sender.getSendQueueSize()).toBe(0)
    expect(drains).toBe(1)
    const result = await withTimeout(receiver.result, 120_000, 'the receiver')
    expect(result).toEqual({ received: N, outOfOrder: 0, firstBad: null })
    sender.close()
  } finally {
    receiver.child.kill()
  }
}

describe('unix_dgram backpressure: nothing lost', () => {
  it(`unconnected: ${N} sent, ${N} received in order by a slow receiver in another process`, () => flood(false), 240_000 * timeScale)
  it(`connected: ${N} sent, ${N} received in order by a slow receiver in another process`, () => flood(true), 240_000 * timeScale)
})

async function receiver(): Promise<{ s: UnixSocket; p: string; got: number[] }> {
  const p = path.join(tempDir(), 'r.sock')
  const s = createSocket('unix_dgram')
  const got: number[] = []
  s.on('message', (m) => got.push(m.readUInt32BE(0)))
  s.bind(p)
  await once(s, 'listening')
  return { s, p, got }
}

describe('unix_dgram sendQueueLimit', () => {
  it('is refused on UDP sockets, where it could never apply, instead of being ignored', () => {
    for (const type of ['udp4', 'udp6'] as const) {
      expect(() => createSocket({ type, sendQueueLimit: 100 } as never)).toThrow(
        expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE', message: expect.stringContaining('is only supported on unix_dgram sockets') }),
      )
    }
  })

  for (const [label, limit, max] of [
    ['datagrams', { datagrams: 50 }, 50],
    ['bytes (a number)', 50 * 16, 50],
    ['bytes (object)', { bytes: 50 * 16 }, 50],
  ] as const) {
    it(`past the limit (${label}) sends fail at once with ERR_SOCKET_DGRAM_QUEUE_FULL; the rest arrive in order`, async () => {
      const { s, p, got } = await receiver()
      const c = createSocket({ type: 'unix_dgram', sendQueueLimit: limit })
      const results: (number | string)[] = []
      const total = 1000
      let done = 0
      for (let i = 0; i < total; i++) {
        c.send(datagram(i), p, (err, n) => {
          results[i] = err ? (err as NodeJS.ErrnoException).code! : n
          done++
        })
        expect(c.getSendQueueCount()).toBeLessThanOrEqual(max)
      }
      expect(c.getSendQueueCount()).toBe(max)
      await until(() => done === total, 'every callback', 30_000, 5)
      const full = results.filter((r) => r === 'ERR_SOCKET_DGRAM_QUEUE_FULL').length
      const sent = results.filter((r) => r === 16).length
      expect(full + sent).toBe(total)
      expect(full).toBeGreaterThan(0)
      expect(sent).toBeGreaterThanOrEqual(max)
      await until(() => got.length === sent, 'the datagrams that were sent', 30_000, 5)
      // Exactly the accepted ones, in the order they were sent.
      const accepted: number[] = []
      results.forEach((r, i) => r === 16 && accepted.push(i))
      expect(got).toEqual(accepted)
      c.close()
      s.close()
    })
  }

  it('the error is coded and clear; without a callback it is emitted as error', async () => {
    const { s, p } = await receiver()
    const c = createSocket({ type: 'unix_dgram', sendQueueLimit: { datagrams: 1 } })
    let i = 0
    while (c.getSendQueueCount() < 1 && i < 10_000) c.send(datagram(i++), p)
    const [err] = await new Promise<unknown[]>((resolve) => c.send(datagram(i), p, (...a: unknown[]) => resolve(a)))
    expect(err).toBeInstanceOf(Error)
    expect(err).toMatchObject({ code: 'ERR_SOCKET_DGRAM_QUEUE_FULL' })
    expect((err as Error).message).toMatch(/^The send queue of this socket is full \(1 datagrams, 16 bytes waiting; limit 1 datagrams, 67108864 bytes\); wait for 'drain'$/)
    c.send(datagram(i), p)
    const [emitted] = await once(c, 'error')
    expect(emitted).toMatchObject({ code: 'ERR_SOCKET_DGRAM_QUEUE_FULL' })
    c.close()
    s.close()
  })

  it("'drain' fires once the queue empties, after the queued callbacks; then sends are accepted again", async () => {
    const { s, p, got } = await receiver()
    const c = createSocket({ type: 'unix_dgram', sendQueueLimit: { datagrams: 20 } })
    const events: string[] = []
    let i = 0
    while (c.getSendQueueCount() < 20 && i < 10_000) c.send(datagram(i++), p, (err) => err || events.push('cb'))
    const queued = c.getSendQueueCount()
    expect(queued).toBe(20)
    await new Promise<void>((resolve) =>
      c.once('drain', () => {
        events.push('drain')
        resolve()
      }),
    )
    // Every callback (sent at once or queued) ran before 'drain'.
    expect(events.filter((e) => e === 'cb').length).toBe(i)
    expect(events[events.length - 1]).toBe('drain')
    expect(c.getSendQueueCount()).toBe(0)
    const [err, n] = await new Promise<unknown[]>((resolve) => c.send(datagram(i++), p, (...a: unknown[]) => resolve(a)))
    expect([err, n]).toEqual([null, 16])
    await until(() => got.length === i, 'all datagrams', 30_000, 5)
    expect(got).toEqual(Array.from({ length: i }, (_, k) => k))
    c.close()
    s.close()
  })

  it('a pump that waits for drain delivers everything through a small queue', async () => {
    const { s, p, got } = await receiver()
    const c = createSocket({ type: 'unix_dgram', sendQueueLimit: { datagrams: 64 } })
    const total = 20_000
    let next = 0
    let refused = 0
    await withTimeout(
      new Promise<void>((resolve) => {
        const pump = (): void => {
          while (next < total) {
            if (c.getSendQueueCount() >= 64) {
              c.once('drain', pump)
              return
            }
            c.send(datagram(next++), p, (err) => {
              if (err) refused++
            })
          }
          resolve()
        }
        pump()
      }),
      60_000,
      'the pump',
    )
    await until(() => got.length === total, 'all datagrams', 30_000, 5)
    expect(refused).toBe(0)
    expect(got).toEqual(Array.from({ length: total }, (_, k) => k))
    c.close()
    s.close()
  })

  it('closing with queued sends cancels them (ECANCELED) and emits no drain', async () => {
    const { s, p } = await receiver()
    const c = createSocket('unix_dgram')
    let drained = false
    c.on('drain', () => (drained = true))
    const codes: string[] = []
    let i = 0
    while (c.getSendQueueCount() < 5 && i < 10_000) c.send(datagram(i++), p, (err) => err && codes.push((err as NodeJS.ErrnoException).code!))
    c.close()
    await once(c, 'close')
    await until(() => codes.length === 5, 'cancelled callbacks', 30_000, 5)
    expect(codes).toEqual(Array(5).fill('ECANCELED'))
    expect(drained).toBe(false)
    s.close()
  })

  it('close() inside a queued send\'s callback cancels only what never left (issue 15 item 7)', async () => {
    const { s, p, got } = await receiver()
    const c = createSocket('unix_dgram')
    const results = new Map<number, string>()
    let queuedFrom = -1
    let i = 0
    while (c.getSendQueueCount() < 40 && i < 10_000) {
      const k = i++
      c.send(datagram(k), p, (err) => {
        results.set(k, err ? (err as NodeJS.ErrnoException).code! : 'ok')
        // The first queued send to finish closes the socket, while the same flush's later
        // completions are still to be reported.
        if (k === queuedFrom && !err) c.close()
      })
      if (queuedFrom < 0 && c.getSendQueueCount() > 0) queuedFrom = k
    }
    expect(queuedFrom).toBeGreaterThanOrEqual(0)
    await until(() => results.size === i, 'every send callback', 30_000, 5)
    await until(() => got.length >= [...results.values()].filter((r) => r === 'ok').length, 'the accepted datagrams', 30_000, 5)
    await new Promise((resolve) => setTimeout(resolve, 50))
    const received = new Set(got)
    const cancelledButReceived = [...results].filter(([k, r]) => r === 'ECANCELED' && received.has(k)).map(([k]) => k)
    expect(cancelledButReceived).toEqual([])
    const okButLost = [...results].filter(([k, r]) => r === 'ok' && !received.has(k)).map(([k]) => k)
    expect(okButLost).toEqual([])
    expect([...results.values()].every((r) => r === 'ok' || r === 'ECANCELED')).toBe(true)
    s.close()
  })

  it('bad limits are rejected by createSocket', () => {
    expect(outcome(() => createSocket({ type: 'unix_dgram', sendQueueLimit: -1 })).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => createSocket({ type: 'unix_dgram', sendQueueLimit: 1.5 })).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => createSocket({ type: 'unix_dgram', sendQueueLimit: 'big' as never })).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    expect(outcome(() => createSocket({ type: 'unix_dgram', sendQueueLimit: { datagrams: 'x' as never } })).threw).toMatchObject({
      code: 'ERR_INVALID_ARG_TYPE',
    })
    const ok = createSocket({ type: 'unix_dgram', sendQueueLimit: { bytes: Infinity, datagrams: 0 } })
    ok.close()
  })
})

describe('a stalled peer costs next to nothing', () => {
  // An unconnected sender whose peer stopped reading: every refused try frees its own skb,
  // which signals writable at once, so a sender that waited for writable would retry in a
  // loop. Counted in syscalls (strace), not seconds: over 2 s, retries at the backoff's pace
  // are a few hundred at most; the spin was hundreds of thousands.
  // The child runs under the runtime being tested, on a file (`deno run` under Deno); Bun and
  // Deno have only the thread driver (Bun's libuv exports abort when called, Deno has no libuv).
  it.skipIf(lacks('strace'))(`an unconnected sender to a peer that stopped reading does not spin, at the syscall level (${childDrivers.join(', ')})`, () => {
    const script = `
      const dgram = require(${JSON.stringify(builtPackage)});
      const path = require('node:path');
      const where = path.join(${JSON.stringify(tempDir())}, 'stalled.sock');
      const r = dgram.createSocket('unix_dgram');
      r.bind(where, () => {
        r[dgram.kNative].recvStop();
        const s = dgram.createSocket('unix_dgram');
        for (let i = 0; i < 100; i++) s.send('x'.repeat(64), where);
        setTimeout(() => { console.log(s.getSendQueueCount()); s.close(); r.close() }, 2000);
      });`
    const file = path.join(tempDir(), 'stalled.cjs')
    fs.writeFileSync(file, script)
    for (const driver of childDrivers) {
      const run = spawnSync('strace', ['-f', '-c', '-e', 'trace=sendto,sendmsg,sendmmsg', ...runtimeCommand(file)], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DGRAMX_DRIVER: driver },
      })
      expect(run.status, run.stderr).toBe(0)
      // Most of the 100 still wait: the peer never read.
      expect(Number(run.stdout.trim()), driver).toBeGreaterThan(50)
      const total = run.stderr.split('\n').find((l) => l.trim().endsWith(' total'))
      // % time, seconds, usecs/call, calls, [errors,] total
      const calls = total === undefined ? 0 : Number(total.trim().split(/\s+/)[3])
      expect(calls, `${driver}: ${total}`).toBeGreaterThan(0)
      expect(calls, `${driver}: ${total}`).toBeLessThan(2000)
    }
  })
})
