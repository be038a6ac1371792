// Scaling across cores: a reusePort group spread over worker_threads and over processes.
// The kernel picks a member per datagram by hashing its 4-tuple, so many source ports spread
// over the members while every datagram of one flow lands on the same member. No timing:
// the test waits (bounded) until every datagram has been counted, then checks who got what.
import { spawn, type ChildProcess } from 'node:child_process'
import path from 'node:path'
import { Worker } from 'node:worker_threads'
import { afterEach, describe, expect, it } from 'vitest'
import { createSocket, type Socket } from '../src/index'
import { builtPackage } from './child'
import { once, withTimeout } from './harness'
import { isDeno, referenceNode } from './runtime'
import { timeScale } from './time-scale'

const MEMBERS = 3
const SOURCES = 48
const PER_SOURCE = 4

// One member of the group. `post` / `onCommand` are bound to a worker's parentPort or to a
// child process's IPC channel.
const member = (transport: 'worker' | 'process') => `
  const dgram = require(${JSON.stringify(builtPackage)});
  ${transport === 'worker'
    ? "const { parentPort, workerData } = require('node:worker_threads'); const post = (m) => parentPort.postMessage(m); const onCommand = (f) => parentPort.on('message', f); const port = workerData.port;"
    : "const post = (m) => process.send(m); const onCommand = (f) => process.on('message', f); const port = Number(process.argv[1]);"}
  const s = dgram.createSocket({ type: 'udp4', reusePort: true, recvBufferSize: 1 << 20 });
  const got = [];
  s.on('message', (msg) => { got.push(msg.toString()); post({ count: got.length }); });
  s.bind(port, '127.0.0.1', () => post({ listening: s.address().port }));
  onCommand((cmd) => {
    if (cmd === 'report') post({ got });
    if (cmd === 'exit') { s.close(); ${transport === 'worker' ? 'parentPort.close()' : 'process.disconnect()'}; }
  });
`

interface Member {
  send(cmd: string): void
  on(event: 'message', listener: (m: { listening?: number; count?: number; got?: string[] }) => void): void
  stop(): Promise<unknown>
}

function startWorker(port: number): Member {
  const w = new Worker(member('worker'), { eval: true, workerData: { port } })
  return {
    send: (cmd) => w.postMessage(cmd),
    on: (_e, l) => void w.on('message', l),
    stop: () => w.terminate(),
  }
}

function startProcess(port: number): Member {
  const child: ChildProcess = spawn(referenceNode, ['-e', member('process'), String(port)], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] })
  return {
    send: (cmd) => child.connected && child.send(cmd),
    on: (_e, l) => void child.on('message', l as (m: unknown) => void),
    stop: () => {
      child.kill()
      return once(child, 'exit').catch(() => undefined)
    },
  }
}

const running: Member[] = []
const senders: Socket[] = []
afterEach(async () => {
  for (const s of senders.splice(0)) s.close()
  await Promise.all(running.splice(0).map((m) => m.stop()))
})

function nextMessage(m: Member, key: 'listening' | 'got'): Promise<unknown> {
  return new Promise((resolve) => m.on('message', (msg) => key in msg && resolve(msg[key])))
}

describe.each([
  ['worker_threads', startWorker],
  ['processes', startProcess],
] as const)('reusePort group over %s', (_name, start) => {
  it(`${MEMBERS} members on one port share datagrams from ${SOURCES} source ports, each exactly once`, async () => {
    // The first member picks the port; the others join it.
    const first = start(0)
    running.push(first)
    const port = (await withTimeout(nextMessage(first, 'listening'), 10_000, 'first member')) as number
    for (let i = 1; i < MEMBERS; i++) running.push(start(port))
    const joined = await withTimeout(Promise.all(running.slice(1).map((m) => nextMessage(m, 'listening'))), 10_000, 'members')
    expect(joined).toEqual(Array(MEMBERS - 1).fill(port))

    // Counted as they arrive, so we know when everything is in.
    const counts = running.map(() => 0)
    const total = SOURCES * PER_SOURCE
    const allIn = new Promise<void>((resolve) => {
      running.forEach((m, i) =>
        m.on('message', (msg) => {
          if (msg.count === undefined) return
          counts[i] = msg.count
          if (counts.reduce((a, b) => a + b, 0) === total) resolve()
        }),
      )
    })
    for (let i = 0; i < SOURCES; i++) {
      const s = createSocket('udp4')
      senders.push(s)
      s.bind(0, '127.0.0.1')
      await once(s, 'listening')
      for (let k = 0; k < PER_SOURCE; k++) s.send(`${i}:${k}`, port, '127.0.0.1')
    }
    await withTimeout(allIn, 15_000, `all ${total} datagrams (counts so far: ${counts})`)

    const reports = (await withTimeout(
      Promise.all(running.map((m) => {
        const r = nextMessage(m, 'got')
        m.send('report')
        return r
      })),
      10_000,
      'reports',
    )) as string[][]
    const everything = reports.flat().sort()
    const expected: string[] = []
    for (let i = 0; i < SOURCES; i++) for (let k = 0; k < PER_SOURCE; k++) expected.push(`${i}:${k}`)
    // Every datagram reached exactly one member.
    expect(everything).toEqual(expected.sort())
    // More than one member got a share.
    expect(reports.filter((r) => r.length > 0).length).toBeGreaterThan(1)
    // One flow (source port) always lands on the same member: the 4-tuple hash.
    for (let i = 0; i < SOURCES; i++) {
      const holders = reports.filter((r) => r.some((id) => id.startsWith(`${i}:`)))
      expect(holders.length).toBe(1)
    }
  })
})

describe('examples/reuseport-workers.mjs', () => {
  // Its workers end with parentPort.close(), which Deno's worker_threads lacks.
  it.skipIf(isDeno)('runs its demo: every datagram echoed, shared by several workers', async () => {
    const script = path.resolve(__dirname, '../../../examples/reuseport-workers.mjs')
    const child = spawn(process.execPath, [script, '--demo', '--workers', '3', '--port', '0'], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    child.stdout!.on('data', (d: Buffer) => (out += d))
    child.stderr!.on('data', (d: Buffer) => (err += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000 * timeScale)
    const [code] = await once(child, 'close', 25_000)
    clearTimeout(timer)
    expect({ code, err }).toEqual({ code: 0, err: '' })
    expect(out).toContain('total 512 of 512')
    const shares = [...out.matchAll(/worker \d+: (\d+) datagrams/g)].map((m) => Number(m[1]))
    expect(shares).toHaveLength(3)
    expect(shares.filter((n) => n > 0).length).toBeGreaterThan(1)
  })
})
