// One benchmark participant in its own process: a receiver, a sender, a round-trip client or a
// memory probe, for one implementation (ours, node, unix-dgram, node-unix-socket). The runner
// (run.mjs) starts it pinned to a core and reads JSON lines from stdout: {"ready":...} once it
// has an address, then {"result":...}. Every loop is bounded by a deadline or a count.
//
//   node worker.mjs '<json params>'

import { createRequire } from 'node:module'
import nodeDgram from 'node:dgram'
import { pathToFileURL } from 'node:url'

const require = createRequire(import.meta.url)
const p = JSON.parse(process.argv[2])
const say = (o) => process.stdout.write(JSON.stringify(o) + '\n')
const now = () => Number(process.hrtime.bigint()) / 1e9
const loopback = (kind) => (kind === 'udp6' ? '::1' : '127.0.0.1')

// DGRAMX_BENCH_OURS=<package dir> measures another build of ours (e.g. a baseline checkout)
// under the same harness.
async function loadOurs() {
  const other = process.env.DGRAMX_BENCH_OURS
  return (await import(other ? pathToFileURL(`${other}/dist/index.mjs`).href : '@dgramx/dgram')).default
}

/**
 * A uniform face over the four libraries: open(onMessage) → { ready, send(buf, cb?),
 * sendMany?(bufs, cb), close() }. `target` is the peer's port (UDP) or path (unix).
 */
async function open(impl, kind, onMessage, { bindPath, target, gso, gro, connect, onBatch } = {}) {
  if (impl === 'ours' || impl === 'node') {
    const dgram = impl === 'ours' ? await loadOurs() : nodeDgram
    if (kind === 'unix_dgram') {
      if (impl === 'node') throw new Error('node:dgram has no unix_dgram')
      const s = dgram.createSocket('unix_dgram')
      if (onBatch) s.on('messages', onBatch)
      else if (onMessage) s.on('message', onMessage)
      if (bindPath) await new Promise((res, rej) => { s.once('error', rej); s.bind(bindPath, res) })
      // A sender connects: only a connected unix sender learns (by a writable wake-up) when a
      // full peer has room again; an unconnected one can only retry on a timer.
      if (connect && target) await new Promise((res, rej) => s.connect(target, (err) => (err ? rej(err) : res())))
      return {
        ready: { path: bindPath },
        send: connect ? (b, cb) => s.send(b, cb) : (b, cb) => s.send(b, target, cb),
        close: () => s.close(),
      }
    }
    const s = dgram.createSocket(gso || gro ? { type: kind, gso: !!gso, gro: !!gro } : kind)
    if (onBatch) s.on('messages', onBatch)
    else if (onMessage) s.on('message', onMessage)
    await new Promise((res) => s.bind(0, loopback(kind), res))
    const host = loopback(kind)
    return {
      ready: { port: s.address().port },
      send: (b, cb) => s.send(b, target, host, cb),
      sendMany: s.sendMany ? (bufs, cb) => s.sendMany(bufs, target, host, cb) : undefined,
      close: () => s.close(),
    }
  }
  if (impl === 'unix-dgram') {
    const unix = require('unix-dgram')
    const s = unix.createSocket('unix_dgram')
    if (onMessage) s.on('message', onMessage)
    s.on('error', () => {})
    if (bindPath) s.bind(bindPath)
    if (connect && target) {
      // Connected: a full peer raises 'congestion', then 'writable' when it has room.
      s.connect(target)
      let congested = false
      const waiting = []
      s.on('congestion', () => { congested = true })
      s.on('writable', () => { congested = false; for (const f of waiting.splice(0)) f() })
      const sendNow = (b, cb) => {
        if (congested) return waiting.push(() => sendNow(b, cb))
        s.send(b, (err) => {
          // 'congestion': the datagram was not sent; send it again on 'writable'.
          if (err && (err.code === 'EAGAIN' || /congestion/i.test(`${err.code} ${err.message}`))) {
            congested = true
            return waiting.push(() => sendNow(b, cb))
          }
          cb?.(err)
        })
      }
      return { ready: { path: bindPath }, send: sendNow, close: () => s.close() }
    }
    return {
      ready: { path: bindPath },
      send: (b, cb) => s.send(b, 0, b.length, target, cb),
      close: () => s.close(),
    }
  }
  if (impl === 'node-unix-socket') {
    const { DgramSocket } = require('node-unix-socket')
    const s = new DgramSocket()
    if (onMessage) s.on('data', onMessage)
    if (bindPath) s.bind(bindPath)
    return {
      ready: { path: bindPath },
      send: (b, cb) => s.sendTo(b, 0, b.length, target, cb ?? (() => {})),
      close: () => s.close(),
    }
  }
  throw new Error(`unknown implementation ${impl}`)
}

/** CPU seconds (user + system, every thread) this process has used so far. */
const cpuSecs = () => {
  const u = process.cpuUsage()
  return (u.user + u.system) / 1e6
}

/**
 * Receive capacity: one listener call per datagram ('message'), or per receive batch with
 * `batch` ('messages', our batch API), counted over `ms` after a warm-up, with the CPU time the
 * receiver used over the same window.
 */
async function recv() {
  let count = 0
  let bytes = 0
  const onBatch = p.batch
    ? (b) => {
        count += b.count
        bytes += b.data.length
      }
    : undefined
  const s = await open(p.impl, p.kind, (msg) => {
    count++
    bytes += msg.length
  }, { bindPath: p.path, gro: p.gro, onBatch })
  say({ ready: s.ready })
  const started = now()
  // Wait for the first datagram (at most 5 s), then warm up, then measure.
  while (count === 0 && now() - started < 5) await sleep(2)
  if (count === 0) {
    say({ result: { count: 0, bytes: 0, secs: 0 } })
    return exit(s)
  }
  await sleep(p.warmupMs)
  const c0 = count, b0 = bytes, t0 = now(), cpu0 = cpuSecs()
  await sleep(p.ms)
  const t1 = now(), cpu1 = cpuSecs()
  say({ result: { count: count - c0, bytes: bytes - b0, secs: t1 - t0, cpu: cpu1 - cpu0 } })
  exit(s)
}

/**
 * Sender: `send` is one send() per datagram, in bursts of 256 with a callback on the last;
 * `many` is sendMany() with 64 datagrams per call; `gso` is sendMany() on a socket created
 * with { gso: true }; `window` keeps 32 send() calls with callbacks in flight.
 */
async function send() {
  const s = await open(p.impl, p.kind, null, { target: p.target, gso: p.mode === 'gso', connect: p.kind === 'unix_dgram' })
  say({ ready: s.ready })
  const buf = Buffer.alloc(p.size, 0x5a)
  const many = Array.from({ length: 64 }, () => buf)
  let count = 0
  let errors = 0
  const onErr = (err) => { if (err) errors++ }
  const deadline = now() + p.ms / 1000
  const t0 = now()
  let lastOk = t0
  let okCount = 0
  while (now() < deadline) {
    const errorsBefore = errors
    if (p.mode === 'window') {
      // Each completion starts the next send: 32 callbacks outstanding at any time.
      await new Promise((res) => {
        let left = 256
        let inFlight = 0
        const one = () => {
          inFlight++
          s.send(buf, (err) => {
            onErr(err)
            inFlight--
            if (left > 0) {
              left--
              one()
            } else if (inFlight === 0) res()
          })
        }
        for (let i = 0; i < 32; i++) {
          left--
          one()
        }
      })
      count += 256
    } else if (p.mode === 'send') {
      await new Promise((res) => {
        for (let i = 0; i < 255; i++) s.send(buf)
        s.send(buf, (err) => { onErr(err); res() })
      })
      count += 256
    } else {
      if (!s.sendMany) throw new Error(`${p.impl} has no sendMany`)
      await new Promise((res) => {
        for (let i = 0; i < 3; i++) s.sendMany(many, onErr)
        s.sendMany(many, (err) => { onErr(err); res() })
      })
      count += 256
    }
    if (errors === errorsBefore) {
      lastOk = now()
      okCount = count - errors
    }
  }
  const secs = now() - t0
  // Up to the last burst without a failure: a receiver that stops first (a unix peer then
  // refuses everything) must not make the rate look lower than what was sent.
  say({ result: { count, bytes: count * p.size, secs, activeSecs: lastOk - t0, activeCount: okCount, errors } })
  exit(s)
}

/** Round-trip client: one request in flight against an echo server. */
async function rtt() {
  const samples = []
  let t = 0
  let n = 0
  let done
  const finished = new Promise((r) => (done = r))
  const buf = Buffer.alloc(p.size, 0x5a)
  let s
  const total = p.warmup + p.count
  let timer
  const next = () => {
    clearTimeout(timer)
    if (n >= total) return done()
    // A lost datagram ends the run rather than hanging it.
    timer = setTimeout(done, 2000)
    t = process.hrtime.bigint()
    s.send(buf)
  }
  s = await open(p.impl, p.kind, () => {
    const dt = Number(process.hrtime.bigint() - t) / 1e3
    if (n++ >= p.warmup) samples.push(dt)
    next()
  }, { bindPath: p.path, target: p.target })
  next()
  await finished
  clearTimeout(timer)
  samples.sort((a, b) => a - b)
  const pick = (q) => (samples.length ? samples[Math.round((samples.length - 1) * q)] : 0)
  say({ result: { p50: pick(0.5), p99: pick(0.99), samples: samples.length } })
  exit(s)
}

function rss() {
  global.gc?.()
  global.gc?.()
  return process.memoryUsage().rss
}

/** RSS before/after receiving `total` datagrams (after a warm-up of `warm`). */
async function mem() {
  let count = 0
  const s = await open(p.impl, p.kind, () => { count++ }, { bindPath: p.path })
  say({ ready: s.ready })
  const started = now()
  while (count < p.warm && now() - started < 30) await sleep(5)
  const before = rss()
  const c0 = count
  const t0 = now()
  let peak = before
  while (count - c0 < p.total && now() - t0 < p.maxSecs) {
    await sleep(50)
    peak = Math.max(peak, process.memoryUsage().rss)
  }
  const received = count - c0
  const after = rss()
  say({ result: { before, after, peak, received, secs: now() - t0 } })
  exit(s)
}

/** RSS per idle bound socket. */
async function idle() {
  const sockets = []
  // One socket first so the library's one-off setup does not count.
  const first = await open(p.impl, p.kind, () => {}, { bindPath: p.kind === 'unix_dgram' ? `${p.dir}/first` : undefined })
  const before = rss()
  for (let i = 0; i < p.n; i++) {
    sockets.push(await open(p.impl, p.kind, () => {}, { bindPath: p.kind === 'unix_dgram' ? `${p.dir}/s${i}` : undefined }))
  }
  const after = rss()
  say({ result: { perSocket: (after - before) / p.n, n: p.n } })
  for (const s of sockets) s.close()
  exit(first)
}

function sleep(ms) {
  return new Promise((r) => setTimeout(r, ms))
}

function exit(s) {
  try { s.close() } catch {}
  setTimeout(() => process.exit(0), 20)
}

const roles = { recv, send, rtt, mem, idle }
roles[p.role]().catch((err) => {
  say({ error: String(err?.stack ?? err) })
  process.exit(1)
})
