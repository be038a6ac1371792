// Faults a long-lived service meets: the peer is gone, a datagram is too big, the socket is
// closed with work in flight, the process or worker ends with sockets open, a socket is
// dropped without close(). After each one the socket (or the process) must still be sound.

import { spawn } from 'node:child_process'
import path from 'node:path'
import { createSocket, type Socket } from '@dgramx/dgram'
import { afterAll, describe, expect, it } from 'vitest'
import { removeTmp, tmp } from './safety'

afterAll(removeTmp)

const dgramxPath = path.dirname(require.resolve('@dgramx/dgram/package.json'))

function next<T extends unknown[]>(emitter: NodeJS.EventEmitter, event: string, ms = 5000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`no '${event}' within ${ms} ms`)), ms)
    emitter.once(event, (...args: unknown[]) => {
      clearTimeout(timer)
      resolve(args as T)
    })
  })
}

async function bound(type: 'udp4' | 'unix_dgram', where?: string): Promise<Socket> {
  const s = createSocket(type as 'udp4')
  if (type === 'udp4') s.bind(0, '127.0.0.1')
  else s.bind(where as never)
  await next(s, 'listening')
  return s
}

/** A round trip from `sender` proves it still works. */
async function stillWorks(sender: Socket, type: 'udp4' | 'unix_dgram'): Promise<void> {
  const receiver = await bound(type, path.join(tmp, `alive-${Math.random().toString(36).slice(2)}.sock`))
  const got = next<[Buffer]>(receiver, 'message')
  if (type === 'udp4') sender.send('alive', receiver.address().port, '127.0.0.1')
  else (sender.send as unknown as (m: Buffer, p: string) => void).call(sender, Buffer.from('alive'), receiver.address().address)
  const [msg] = await got
  expect(String(msg)).toBe('alive')
  receiver.close()
}

function runChild(source: string, args: string[] = []): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...args, '-e', `const dgram = require(${JSON.stringify(dgramxPath)});\n${source}`], { stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('peer gone', () => {
  it('udp4: ICMP port unreachable on a connected socket is a coded error, then the socket works on', async () => {
    const gone = await bound('udp4')
    const port = gone.address().port
    gone.close()
    const s = createSocket('udp4')
    s.connect(port, '127.0.0.1')
    await next(s, 'connect')
    const errors: string[] = []
    s.on('error', (e: NodeJS.ErrnoException) => errors.push(`${e.code} ${e.syscall}`))
    const results: (string | number)[] = []
    for (let i = 0; i < 3; i++) {
      await new Promise<void>((resolve) => s.send('anyone?', (err, bytes) => (results.push(err ? (err as NodeJS.ErrnoException).code! : bytes), resolve())))
      await new Promise((r) => setTimeout(r, 20))
    }
    // The kernel reports the ICMP error on the next send (or receive): as with node:dgram it
    // surfaces as ECONNREFUSED, to the send callback or as 'error'.
    expect([...results, ...errors].some((r) => String(r).startsWith('ECONNREFUSED'))).toBe(true)
    s.disconnect()
    await stillWorks(s, 'udp4')
    s.close()
  })

  it('unix_dgram: sending to a path nobody listens on is ECONNREFUSED; a missing path ENOENT; then it works on', async () => {
    const deadPath = path.join(tmp, 'dead.sock')
    // A socket file left behind by a process that is gone: keep the file at close.
    const dead = createSocket({ type: 'unix_dgram', unlinkOnClose: false })
    dead.bind(deadPath)
    await next(dead as unknown as Socket, 'listening')
    dead.close()
    await new Promise((r) => setImmediate(r))
    const s = createSocket('unix_dgram')
    const send = s.send as (m: Buffer, p: string, cb: (e: NodeJS.ErrnoException | null) => void) => void
    const refused = await new Promise<NodeJS.ErrnoException | null>((r) => send.call(s, Buffer.from('x'), deadPath, r))
    expect(refused?.code).toBe('ECONNREFUSED')
    const missing = await new Promise<NodeJS.ErrnoException | null>((r) => send.call(s, Buffer.from('x'), path.join(tmp, 'never.sock'), r))
    expect(missing?.code).toBe('ENOENT')
    await stillWorks(s as unknown as Socket, 'unix_dgram')
    s.close()
  })
})

describe('oversized datagrams', () => {
  it('udp4: 65508 bytes is EMSGSIZE to the callback; the next send works', async () => {
    const s = createSocket('udp4')
    const err = await new Promise<NodeJS.ErrnoException | null>((r) => s.send(Buffer.alloc(65508), 9, '127.0.0.1', (e) => r(e)))
    expect(err?.code).toBe('EMSGSIZE')
    await stillWorks(s, 'udp4')
    s.close()
  })
})

describe('close with work in flight', () => {
  it('unix_dgram: every queued send callback runs exactly once; what was not sent gets an error', async () => {
    // A receiver that never reads fills up after a few datagrams (max_dgram_qlen), so most
    // sends wait in our queue when close() comes.
    const sink = await bound('unix_dgram', path.join(tmp, 'sink.sock'))
    sink.setRecvBufferSize(4096)
    const s = createSocket('unix_dgram')
    const N = 2000
    const calls = new Array<number>(N).fill(0)
    const outcomes = new Map<string, number>()
    let finished = 0
    const allDone = new Promise<void>((resolve) => {
      for (let i = 0; i < N; i++) {
        ;(s.send as (m: Buffer, p: string, cb: (e: NodeJS.ErrnoException | null) => void) => void)(Buffer.alloc(512), sink.address().address, (err) => {
          calls[i]++
          const key = err ? err.code! : 'sent'
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          if (++finished === N) resolve()
        })
      }
    })
    expect(s.getSendQueueCount()).toBeGreaterThan(0)
    s.close()
    await allDone
    await new Promise((r) => setTimeout(r, 20))
    expect(calls.every((c) => c === 1)).toBe(true)
    expect(outcomes.get('ECANCELED')).toBeGreaterThan(0)
    expect([...outcomes.keys()].every((k) => k === 'sent' || k === 'ECANCELED')).toBe(true)
    sink.close()
  })

  it('close() inside a message listener stops delivery of the rest of the batch', async () => {
    const r = await bound('udp4')
    const c = createSocket('udp4')
    let seen = 0
    const closed = next(r, 'close')
    r.on('message', () => {
      seen++
      r.close()
    })
    for (let i = 0; i < 50; i++) c.send('x', r.address().port, '127.0.0.1')
    await closed
    await new Promise((res) => setTimeout(res, 50))
    expect(seen).toBe(1)
    c.close()
  })
})

describe('endings', () => {
  it('process.exit() with open, receiving sockets of every type exits cleanly', async () => {
    const sock = path.join(tmp, 'exit.sock')
    const r = await runChild(`
      const a = dgram.createSocket('udp4'); a.bind(0, '127.0.0.1')
      const b = dgram.createSocket('udp6'); b.bind(0, '::1')
      const u = dgram.createSocket('unix_dgram'); u.bind(${JSON.stringify(sock)})
      u.on('listening', () => { a.send('x', 9, '127.0.0.1'); setImmediate(() => process.exit(7)) })`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(7)
  })

  it('worker.terminate() with open sockets: no crash, and the workers fds are released', async () => {
    const r = await runChild(`
      const { Worker } = require('node:worker_threads')
      const fs = require('node:fs')
      const count = () => fs.readdirSync('/proc/self/fd').length
      const before = count()
      let round = 0
      const spin = () => {
        const w = new Worker(\`
          const dgram = require(\${JSON.stringify(${JSON.stringify(dgramxPath)})})
          const { parentPort } = require('node:worker_threads')
          const socks = []
          for (let i = 0; i < 20; i++) { const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1'); socks.push(s) }
          const u = dgram.createSocket('unix_dgram'); u.bind()
          socks[19].on('listening', () => parentPort.postMessage('up'))\`, { eval: true })
        w.once('message', () => w.terminate().then(() => (++round < 10 ? spin() : setTimeout(() => console.log(JSON.stringify({ before, after: count() })), 100))))
      }
      spin()`)
    expect(r.stderr).toBe('')
    expect(r.code).toBe(0)
    const { before, after } = JSON.parse(r.stdout) as { before: number; after: number }
    // Ten workers each opened 21 sockets; none may be left behind (a little slack for Node's
    // own descriptors that come and go).
    expect(after - before).toBeLessThan(5)
  })

  it('a socket dropped without close() is collected by GC and its descriptor released', async () => {
    const r = await runChild(`
      const fs = require('node:fs')
      const count = () => fs.readdirSync('/proc/self/fd').length
      const before = count()
      ;(function make() { for (let i = 0; i < 200; i++) { dgram.createSocket(i % 2 ? "udp4" : "unix_dgram") } })()
      const during = count()
      let rounds = 0
      const tick = () => { global.gc(); if (++rounds < 20 && count() > before + 5) setTimeout(tick, 10); else console.log(JSON.stringify({ before, during, after: count() })) }
      tick()`, ['--expose-gc'])
    expect(r.stderr).toBe('')
    const { before, during, after } = JSON.parse(r.stdout) as Record<string, number>
    expect(during - before).toBeGreaterThanOrEqual(200)
    expect(after - before).toBeLessThan(5)
  })
})
