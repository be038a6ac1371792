// One stuck peer must not hold up the others (issue 15 item 5). The README's unix_dgram echo
// server answers every client from one socket; a client that stops reading fills its receive
// queue (net.unix.max_dgram_qlen, 10 on Linux), and the server's replies to it have to wait.
// Each destination waits in its own queue: replies to the other clients go on, each
// destination's replies stay in order, and the wait is bounded by default. No timing is
// asserted: counts and order, with bounded waits; CPU is counted in syscalls (strace).
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, kNative, type UnixSocket } from '../src/index'
import { builtPackage } from './child'
import { once, tempDir, until } from './harness'
import { lacks } from './lacks'

const UNBOUNDED = { bytes: Infinity, datagrams: Infinity, perDestination: { bytes: Infinity, datagrams: Infinity } }

function ping(i: number): Buffer {
  const b = Buffer.alloc(16, 0x2a)
  b.writeUInt32BE(i, 0)
  return b
}

/** The README's echo server, with its send errors collected instead of thrown. */
async function echoServer(dir: string): Promise<{ server: UnixSocket; where: string; errors: NodeJS.ErrnoException[]; received: () => number }> {
  const where = path.join(dir, 'echo.sock')
  const server = createSocket('unix_dgram')
  const errors: NodeJS.ErrnoException[] = []
  server.on('error', (e) => errors.push(e as NodeJS.ErrnoException))
  let received = 0
  server.on('message', (msg, rinfo) => {
    received++
    if (rinfo.address) server.send(msg, 0, msg.length, rinfo.address)
  })
  server.bind(where)
  await once(server, 'listening')
  return { server, where, errors, received: () => received }
}

/** A bound client that records the number in every reply. */
async function client(dir: string, name: string): Promise<{ s: UnixSocket; got: number[] }> {
  const s = createSocket({ type: 'unix_dgram', sendQueueLimit: UNBOUNDED })
  const got: number[] = []
  s.on('message', (m) => got.push(m.readUInt32BE(0)))
  s.bind(path.join(dir, `${name}.sock`))
  await once(s, 'listening')
  return { s, got }
}

/** Stops reading, as a client that hangs would: its receive queue fills and stays full. */
function stopReading(s: UnixSocket): void {
  ;(s as unknown as Record<symbol, { recvStop(): void }>)[kNative].recvStop()
}

function resumeReading(s: UnixSocket): void {
  ;(s as unknown as Record<symbol, { recvStart(): void }>)[kNative].recvStart()
}

describe('unix_dgram: a stuck peer holds up only itself', () => {
  it("in the README's echo server, a client that stops reading does not stall the replies to another; each client's replies stay in order", async () => {
    const dir = tempDir()
    const { server, where, errors } = await echoServer(dir)
    const a = await client(dir, 'a')
    const b = await client(dir, 'b')
    stopReading(a.s)
    // A asks for far more than its receive queue holds: the server's replies to A wait.
    for (let i = 0; i < 100; i++) a.s.send(ping(i), where)
    await until(() => server.getSendQueueCount() >= 50, 'replies to A to wait at the server', 20_000, 5)
    // B keeps getting its replies, in order, while A's wait.
    for (let i = 0; i < 50; i++) b.s.send(ping(i), where)
    await until(() => b.got.length === 50, "B's 50 replies while A is stuck", 20_000, 5)
    expect(b.got).toEqual(Array.from({ length: 50 }, (_, i) => i))
    expect(server.getSendQueueCount()).toBeGreaterThan(0)
    expect(a.got).toEqual([])
    // When A reads again, it gets every reply, in the order they were sent.
    resumeReading(a.s)
    await until(() => a.got.length === 100, "A's 100 replies once it reads", 20_000, 5)
    expect(a.got).toEqual(Array.from({ length: 100 }, (_, i) => i))
    await until(() => server.getSendQueueCount() === 0, 'the server queue to empty', 20_000, 5)
    expect(errors).toEqual([])
    a.s.close()
    b.s.close()
    server.close()
  }, 60_000)

  it('the default bound: past 16,384 datagrams waiting for one stuck peer, sends to it are refused (ERR_SOCKET_DGRAM_QUEUE_FULL; emitted without a callback); other peers are still served', async () => {
    const dir = tempDir()
    const a = await client(dir, 'a')
    const b = await client(dir, 'b')
    stopReading(a.s)
    const s = createSocket('unix_dgram')
    const errors: NodeJS.ErrnoException[] = []
    s.on('error', (e) => errors.push(e as NodeJS.ErrnoException))
    const toA = path.join(dir, 'a.sock')
    const total = 16_600
    let sentAtOnce = 0
    for (let i = 0; i < total; i++) {
      // The first ones reach A's receive queue: their callbacks say so. The rest have none.
      if (i < 100) s.send(ping(i), toA, (err) => err || sentAtOnce++)
      else s.send(ping(i), toA)
    }
    await new Promise((resolve) => setImmediate(resolve))
    // Queued ones complete later: count only what completed at once.
    const atOnce = sentAtOnce
    // 16,384 wait (the per-destination default), A's receive queue took a few, the rest refused.
    expect(s.getSendQueueCount()).toBe(16_384)
    expect(s.getSendQueueSize()).toBe(16_384 * 16)
    expect(atOnce).toBeGreaterThan(0)
    expect(errors.length).toBe(total - 16_384 - atOnce)
    for (const e of errors) {
      expect(e).toBeInstanceOf(Error)
      expect(e.code).toBe('ERR_SOCKET_DGRAM_QUEUE_FULL')
    }
    expect(errors[0]!.message).toBe("The send queue for this destination is full (16384 datagrams, 262144 bytes waiting; limit 16384 datagrams, 16777216 bytes); wait for 'drain'")
    // B is not refused: the bound is A's alone.
    for (let i = 0; i < 20; i++) s.send(ping(i), path.join(dir, 'b.sock'))
    await until(() => b.got.length === 20, "B's datagrams", 20_000, 5)
    expect(b.got).toEqual(Array.from({ length: 20 }, (_, i) => i))
    // A's accepted datagrams arrive, in order, once it reads; then 'drain'.
    const drained = once(s, 'drain', 60_000)
    resumeReading(a.s)
    await drained
    const accepted = atOnce + 16_384
    await until(() => a.got.length === accepted, "A's accepted datagrams", 30_000, 5)
    expect(a.got).toEqual(Array.from({ length: accepted }, (_, i) => i))
    s.close()
    a.s.close()
    b.s.close()
  }, 90_000)

  it('sendQueueLimit.perDestination bounds each destination on its own; the total bound all of them', async () => {
    const dir = tempDir()
    const a = await client(dir, 'a')
    const b = await client(dir, 'b')
    const c = await client(dir, 'c')
    for (const r of [a, b, c]) stopReading(r.s)
    const s = createSocket({ type: 'unix_dgram', sendQueueLimit: { datagrams: 25, perDestination: { datagrams: 10 } } })
    const codes = new Map<string, string[]>()
    for (const [name] of [['a'], ['b'], ['c']]) {
      const to = path.join(dir, `${name}.sock`)
      const got: string[] = []
      codes.set(name!, got)
      for (let i = 0; i < 40; i++) s.send(ping(i), to, (err) => got.push(err ? (err as NodeJS.ErrnoException).code! : 'sent'))
    }
    await until(() => [...codes.values()].every((c) => c.length >= 40 - 10), 'the immediate outcomes', 10_000, 5)
    const count = (name: string, code: string): number => codes.get(name)!.filter((c) => c === code).length
    const refused = (name: string): number => count(name, 'ERR_SOCKET_DGRAM_QUEUE_FULL')
    // a and b: what their receive queues took, 10 waiting, the rest refused by their own bound.
    expect(refused('a')).toBe(40 - count('a', 'sent') - 10)
    expect(refused('b')).toBe(40 - count('b', 'sent') - 10)
    // c: what its receive queue took, then only 5 may wait (25 in all), the rest refused.
    expect(refused('c')).toBe(40 - count('c', 'sent') - 5)
    expect(count('c', 'sent')).toBeGreaterThan(0)
    expect(s.getSendQueueCount()).toBe(25)
    s.close()
    for (const r of [a, b, c]) r.s.close()
  }, 30_000)
})

// The strace children run under the runtime being tested, with `-e`, which Deno reads
// otherwise. Bun has only the thread driver (its libuv exports abort when called).
const underBun = typeof (process.versions as Record<string, unknown>).bun === 'string'
const underDeno = typeof (globalThis as { Deno?: unknown }).Deno === 'object'
const drivers = underBun ? ['thread'] : ['uv-poll', 'thread']

describe('a stuck peer costs next to nothing while the others are served', () => {
  it.skipIf(lacks('strace') || underDeno)(`echo server with one client stuck: the other's 200 round trips complete, and 2 s with the stuck client's replies waiting cost few syscalls, at the syscall level (${drivers.join(', ')})`, () => {
    const script = `
      const dgram = require(${JSON.stringify(builtPackage)});
      const path = require('node:path');
      const dir = ${JSON.stringify(tempDir())};
      const where = path.join(dir, 'echo-' + process.env.DGRAMX_DRIVER + '.sock');
      const server = dgram.createSocket('unix_dgram');
      server.on('message', (msg, rinfo) => { if (rinfo.address) server.send(msg, 0, msg.length, rinfo.address) });
      server.bind(where, () => {
        const a = dgram.createSocket('unix_dgram');
        a.bind(path.join(dir, 'a-' + process.env.DGRAMX_DRIVER + '.sock'), () => {
          a[dgram.kNative].recvStop();
          for (let i = 0; i < 100; i++) a.send('x'.repeat(16), where);
          const b = dgram.createSocket('unix_dgram');
          let replies = 0;
          b.on('message', () => {
            if (++replies < 200) return b.send('y', where);
            setTimeout(() => {
              console.log(JSON.stringify({ replies, waiting: server.getSendQueueCount() }));
              a.close(); b.close(); server.close();
            }, 2000);
          });
          b.bind(path.join(dir, 'b-' + process.env.DGRAMX_DRIVER + '.sock'), () => b.send('y', where));
        });
      });
      setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(3) }, 30000).unref();`
    for (const driver of drivers) {
      const run = spawnSync('strace', ['-f', '-c', '-e', 'trace=sendto,sendmsg,sendmmsg', process.execPath, '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DGRAMX_DRIVER: driver },
      })
      expect(run.status, `${driver}: ${run.stdout} ${run.stderr}`).toBe(0)
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!)
      // B got all its replies although A's wait at the server.
      expect(result.replies, driver).toBe(200)
      expect(result.waiting, driver).toBeGreaterThan(50)
      const total = run.stderr.split('\n').find((l) => l.trim().endsWith(' total'))
      // % time, seconds, usecs/call, calls, [errors,] total
      const calls = total === undefined ? 0 : Number(total.trim().split(/\s+/)[3])
      // 100 + 2 x 200 sends, the server's first replies to A, and its retries at the backoff's
      // pace (at most a few hundred over 2 s); a spin would be hundreds of thousands.
      expect(calls, `${driver}: ${total}`).toBeGreaterThan(500)
      expect(calls, `${driver}: ${total}`).toBeLessThan(3000)
    }
  }, 150_000)
})

describe('queued unix sends leave in batches (issue 18 item 3)', () => {
  it.skipIf(lacks('strace') || underDeno)(`a stuck peer is retried with one syscall per retry, and its queue drains with sendmmsg batches once it reads, at the syscall level (${drivers.join(', ')})`, () => {
    const script = `
      const dgram = require(${JSON.stringify(builtPackage)});
      const path = require('node:path');
      const where = path.join(${JSON.stringify(tempDir())}, 'batch-' + process.env.DGRAMX_DRIVER + '.sock');
      const r = dgram.createSocket('unix_dgram');
      let got = 0;
      r.on('message', () => got++);
      r.bind(where, () => {
        r[dgram.kNative].recvStop();
        const s = dgram.createSocket('unix_dgram');
        for (let i = 0; i < 200; i++) s.send('x'.repeat(64), where);
        setTimeout(() => {
          const waiting = s.getSendQueueCount();
          s.once('drain', () => {
            const done = setInterval(() => {
              if (got < 200) return;
              clearInterval(done);
              console.log(JSON.stringify({ waiting, got }));
              s.close(); r.close();
            }, 5);
          });
          r[dgram.kNative].recvStart();
        }, 1000);
      });
      setTimeout(() => { console.log(JSON.stringify({ timeout: true })); process.exit(3) }, 30000).unref();`
    for (const driver of drivers) {
      const trace = path.join(tempDir(), `strace-${driver}.txt`)
      const run = spawnSync('strace', ['-f', '-o', trace, '-e', 'trace=sendto,sendmsg,sendmmsg', process.execPath, '-e', script], {
        encoding: 'utf8',
        timeout: 60_000,
        env: { ...process.env, DGRAMX_DRIVER: driver },
      })
      expect(run.status, `${driver}: ${run.stdout} ${run.stderr}`).toBe(0)
      const result = JSON.parse(run.stdout.trim().split('\n').pop()!)
      expect(result.got, driver).toBe(200)
      expect(result.waiting, driver).toBeGreaterThan(100)
      const lines = readFileSync(trace, 'utf8').split('\n')
      const returns = (call: string): string[] =>
        lines.filter((l) => new RegExp(`\\b${call}\\(`).test(l) && / = /.test(l)).map((l) => l.slice(l.lastIndexOf(' = ') + 3).trim())
      const single = [...returns('sendto'), ...returns('sendmsg')]
      const batched = returns('sendmmsg')
      // One refused single send queued the rest; every retry after that is one sendmmsg, never
      // a sendmmsg and then the same datagram again alone.
      expect(single.filter((r) => r.startsWith('-1 EAGAIN')).length, `${driver}: ${single.join(' | ')}`).toBe(1)
      expect(batched.filter((r) => r.startsWith('-1 EAGAIN')).length, driver).toBeGreaterThan(0)
      // The queue drained in batches: some sendmmsg carried several datagrams, and every
      // queued datagram left by sendmmsg.
      const counts = batched.filter((r) => /^\d+$/.test(r)).map(Number)
      expect(Math.max(0, ...counts), `${driver}: ${batched.join(' | ')}`).toBeGreaterThan(1)
      expect(counts.reduce((a, b) => a + b, 0), driver).toBe(result.waiting)
    }
  }, 150_000)
})
