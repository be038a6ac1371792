// pnpm bench [--quick] [--reps N] [--only REGEX] [--no-build]
//
// One invocation, interleaved repetitions: @dgramx/dgram ("ours"), node:dgram and the syscall
// ceiling (crates/dgramx-ceiling), plus the npm unix_dgram packages where they load, over udp4,
// udp6 and unix_dgram, in four settings:
//   recv  receive capacity at saturation: the ceiling blasts from core 0 with GSO
//         (UDP_SEGMENT, 64 datagrams a syscall: far more than any receiver takes; unix_dgram,
//         which has no GSO and blocks its sender instead of dropping, with sendmmsg), the
//         receiver runs alone on core 1 and counts datagrams over a fixed window ('message'
//         per datagram, or our 'messages' batches), with its own CPU time over that window.
//         Each row shows the offered rate, the loss and the receiver's CPU share; a receiver
//         that neither dropped (>= 5 % lost) nor used >= 90 % of its core was not saturated,
//         and its row is not a capacity figure. Datagrams per receiver CPU-second is the
//         figure that survives a busy machine;
//   send  send-only: the sender on core 0 sends to a sink on core 1 (UDP: a socket nobody
//         reads; unix: a recvmmsg drain, since a unix sender blocks on a full peer);
//   e2e   end to end: sender (core 0) and receiver (core 1) of the same library;
//   rtt   request/response latency against the ceiling's echo server (one in flight).
// Then a memory profile (RSS growth over N received datagrams, RSS per idle socket), a table
// with ratios, the goals of issue 6, JSON, a chart (SVG + PNG) and the docs' tables.

import { spawn, spawnSync, execFileSync } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { createRequire } from 'node:module'
import os from 'node:os'
import path from 'node:path'
import readline from 'node:readline'
import { fileURLToPath } from 'node:url'

import { renderChart } from './chart.mjs'
import { goals, markdownReport, textTable } from './report.mjs'

const require = createRequire(import.meta.url)
const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../../..')
const argv = process.argv.slice(2)
const flag = (name) => argv.includes(name)
const option = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt
}
const quick = flag('--quick')
const cfg = {
  quick,
  reps: Number(option('--reps', quick ? 1 : 3)),
  warmupMs: quick ? 100 : 200,
  ms: quick ? 300 : 800,
  rttWarmup: quick ? 300 : 2000,
  rttCount: quick ? 3000 : 20000,
  memTotal: Number(option('--mem', quick ? 1_000_000 : 10_000_000)),
  idleSockets: quick ? 200 : 1000,
}
const RTT_ROUNDS = 3
cfg.rttCount = Math.round(cfg.rttCount / RTT_ROUNDS)
const only = option('--only', null)
const onlyRe = only ? new RegExp(only) : null
const outDir = quick ? path.join(root, 'packages/bench/out') : path.join(root, 'docs/bench')
const ceilingBin = path.join(root, 'target/release/dgramx-ceiling')
const workerJs = path.join(here, 'worker.mjs')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dgramx-bench-'))
const log = (...a) => console.log(...a)

// ---- build what the run needs -------------------------------------------------------------

function build() {
  if (flag('--no-build')) return
  log('> building the addon and facade (turbo) and the ceiling (cargo --release)')
  const run = (cmd, args) => {
    const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' })
    if (r.status !== 0) throw new Error(`${cmd} ${args.join(' ')} failed`)
  }
  run('pnpm', ['run', 'build'])
  run('cargo', ['build', '--release', '--locked', '-p', 'dgramx-ceiling'])
}

/** The npm unix_dgram packages: loaded if they can be; unix-dgram is compiled here if needed. */
function probePeers() {
  const peers = {}
  try {
    require('unix-dgram')
    peers['unix-dgram'] = { ok: true }
  } catch (first) {
    try {
      const dir = path.dirname(require.resolve('unix-dgram/package.json'))
      const gyp = require.resolve('node-gyp/bin/node-gyp.js')
      const prefix = path.dirname(path.dirname(process.execPath))
      const args = [gyp, 'rebuild']
      // Build against the local headers: nothing is downloaded.
      if (existsSync(path.join(prefix, 'include/node/common.gypi'))) args.push(`--nodedir=${prefix}`)
      log('> building unix-dgram with node-gyp (its install script is not run by pnpm)')
      const r = spawnSync(process.execPath, args, { cwd: dir, encoding: 'utf8' })
      if (r.status !== 0) throw new Error(`node-gyp failed: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}`)
      require('unix-dgram')
      peers['unix-dgram'] = { ok: true }
    } catch (err) {
      peers['unix-dgram'] = { ok: false, reason: String(err.message ?? err).split('\n')[0] }
    }
    void first
  }
  try {
    require('node-unix-socket')
    peers['node-unix-socket'] = { ok: true }
  } catch (err) {
    peers['node-unix-socket'] = { ok: false, reason: String(err.message ?? err).split('\n')[0] }
  }
  for (const [name, st] of Object.entries(peers)) {
    if (!st.ok) log(`! skipping ${name}: ${st.reason}`)
  }
  return peers
}

function machine() {
  const cpus = os.cpus()
  const tryRun = (cmd, args) => {
    try {
      return execFileSync(cmd, args, { encoding: 'utf8' }).trim()
    } catch {
      return 'unknown'
    }
  }
  return {
    cpu: cpus[0]?.model ?? 'unknown',
    cores: cpus.length,
    memoryGiB: Math.round(os.totalmem() / 2 ** 30),
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    rustc: tryRun('rustc', ['--version']),
    loadavg: os.loadavg().map((x) => Math.round(x * 100) / 100),
    pinned: hasTaskset,
    date: new Date().toISOString(),
  }
}

// ---- child processes ------------------------------------------------------------------------

const hasTaskset = spawnSync('taskset', ['-c', '0', 'true']).status === 0 && os.cpus().length >= 2

/** Starts a participant pinned to `core`; resolves `ready` and `result` from its JSON lines. */
function start(core, cmd, args) {
  const full = hasTaskset ? ['taskset', ['-c', String(core), cmd, ...args]] : [cmd, args]
  const child = spawn(full[0], full[1], { stdio: ['ignore', 'pipe', 'pipe'] })
  let onReady, onResult
  const ready = new Promise((res, rej) => (onReady = { res, rej }))
  const result = new Promise((res, rej) => (onResult = { res, rej }))
  let stderr = ''
  child.stderr.on('data', (d) => (stderr = (stderr + d).slice(-2000)))
  readline.createInterface({ input: child.stdout }).on('line', (line) => {
    let msg
    try {
      msg = JSON.parse(line)
    } catch {
      return
    }
    if (msg.ready) onReady.res(msg.ready)
    if (msg.result) onResult.res(msg.result)
    if (msg.error) {
      const e = new Error(msg.error)
      onReady.rej(e)
      onResult.rej(e)
    }
  })
  child.on('exit', (code) => {
    const e = new Error(`${path.basename(cmd)} ${args[0]} exited ${code}: ${stderr.trim().slice(-400)}`)
    onReady.rej(e)
    onResult.rej(e)
  })
  ready.catch(() => {})
  result.catch(() => {})
  const exited = new Promise((r) => child.on('exit', r))
  return {
    ready,
    result,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGTERM')
      await exited
    },
  }
}

const ceiling = (core, ...args) => start(core, ceilingBin, args.map(String))
const js = (core, params, nodeArgs = []) => start(core, process.execPath, [...nodeArgs, workerJs, JSON.stringify(params)])
const SENDER = 0
const RECEIVER = 1
let pathSeq = 0
const sockPath = () => path.join(tmp, `s${pathSeq++}.sock`)
const ckind = (kind) => (kind === 'unix_dgram' ? 'unix' : kind)
const target = (ready) => (ready.port !== undefined ? ready.port : ready.path)
function withTimeout(promise, ms, what) {
  let timer
  const limit = new Promise((_, rej) => (timer = setTimeout(() => rej(new Error(`${what}: timed out`)), ms)))
  return Promise.race([promise, limit]).finally(() => clearTimeout(timer))
}

/**
 * A receiver (ceiling mode or JS impl) fed by `sender(target)`; returns the receiver's result
 * plus `offered`, the sender's own rate over its run (which spans the receiver's window).
 */
async function receiveRun(kind, receiver, sender) {
  const rpath = kind === 'unix_dgram' ? sockPath() : undefined
  const r = receiver.ceiling
    ? ceiling(RECEIVER, 'recv', ckind(kind), receiver.ceiling, cfg.warmupMs, cfg.ms, ...(rpath ? [rpath] : []))
    : js(RECEIVER, { role: 'recv', impl: receiver.impl, kind, warmupMs: cfg.warmupMs, ms: cfg.ms, path: rpath, gro: receiver.gro, batch: receiver.batch })
  let s
  try {
    const ready = await withTimeout(r.ready, 10000, 'receiver start')
    s = sender(target(ready))
    const result = await withTimeout(r.result, cfg.warmupMs + cfg.ms + 10000, 'receiver result')
    // The feed stops on its own shortly after the window; a receiver that closed first can
    // stall a unix sender, so its count is waited for only briefly.
    const sent = await withTimeout(s.result, FEED_MARGIN_MS + 5000, 'sender result').catch(() => null)
    // Over the sender's active span (see the senders): JS senders count their failures in
    // `count`, the ceiling counts only what the kernel took.
    const span = sent?.activeSecs ?? sent?.secs
    const took = sent?.activeCount ?? sent?.count
    if (span > 0) result.offered = took / span
    return result
  } finally {
    await r.stop()
    await s?.stop()
  }
}

// Feeding a receiver, a sender runs for the receiver's warm-up and window plus a margin for
// start-up, then reports its count (the offered rate); for send-only runs its own count over
// cfg.ms is the result.
const FEED_MARGIN_MS = 1500
const FEED_MS = cfg.warmupMs + cfg.ms + FEED_MARGIN_MS
const blast = (kind, mode, size, ms = FEED_MS) => (t) => ceiling(SENDER, 'send', ckind(kind), mode, size, ms, t)
const jsSender = (kind, impl, mode, size, ms = FEED_MS) => (t) => js(SENDER, { role: 'send', impl, kind, mode, size, ms, target: t })

/** Send-only: the sender's own count over the window. */
async function sendRun(kind, sender) {
  const spath = kind === 'unix_dgram' ? sockPath() : undefined
  const sink = ceiling(RECEIVER, 'sink', ckind(kind), kind === 'unix_dgram' ? 'drain' : 'hold', 60000, ...(spath ? [spath] : []))
  let s
  try {
    const ready = await withTimeout(sink.ready, 10000, 'sink start')
    s = sender(target(ready))
    return await withTimeout(s.result, cfg.ms + 15000, 'sender result')
  } finally {
    await s?.stop()
    await sink.stop()
  }
}

async function rttRun(kind, client) {
  const epath = kind === 'unix_dgram' ? sockPath() : undefined
  const echo = ceiling(SENDER, 'echo', ckind(kind), 120000, ...(epath ? [epath] : []))
  let c
  try {
    const t = target(await withTimeout(echo.ready, 10000, 'echo start'))
    const own = kind === 'unix_dgram' ? sockPath() : undefined
    c = client.ceiling
      ? ceiling(RECEIVER, 'rtt', ckind(kind), 64, cfg.rttWarmup, cfg.rttCount, t, ...(own ? [own] : []))
      : js(RECEIVER, { role: 'rtt', impl: client.impl, kind, size: 64, warmup: cfg.rttWarmup, count: cfg.rttCount, target: t, path: own })
    return await withTimeout(c.result, 120000, 'rtt result')
  } finally {
    await c?.stop()
    await echo.stop()
  }
}

// ---- the scenarios --------------------------------------------------------------------------

function scenarios(peers) {
  const list = []
  const unixPeers = Object.keys(peers).filter((k) => peers[k].ok)
  const add = (setting, kind, size, impl, run) => {
    const id = `${setting}|${kind}|${size}|${impl}`
    if (!onlyRe || onlyRe.test(id)) list.push({ id, setting, kind, size, impl, run })
  }
  const sizes = (kind) => (kind === 'unix_dgram' ? [64, 1400, 8192] : [64, 1400])
  for (const kind of ['udp4', 'udp6', 'unix_dgram']) {
    const udp = kind !== 'unix_dgram'
    for (const size of sizes(kind)) {
      // receive capacity, at saturation
      const feed = blast(kind, udp ? 'gso' : 'mmsg', size)
      add('recv', kind, size, 'ceiling', () => receiveRun(kind, { ceiling: 'mmsg' }, feed))
      add('recv', kind, size, 'ceiling-recvfrom', () => receiveRun(kind, { ceiling: 'plain' }, feed))
      add('recv', kind, size, 'ours', () => receiveRun(kind, { impl: 'ours' }, feed))
      add('recv', kind, size, 'ours-batch', () => receiveRun(kind, { impl: 'ours', batch: true }, feed))
      if (udp) add('recv', kind, size, 'node', () => receiveRun(kind, { impl: 'node' }, feed))
      else for (const peer of unixPeers) add('recv', kind, size, peer, () => receiveRun(kind, { impl: peer }, feed))
      // send-only
      add('send', kind, size, 'ceiling-sendto', () => sendRun(kind, blast(kind, 'plain', size, cfg.ms)))
      add('send', kind, size, 'ceiling', () => sendRun(kind, blast(kind, 'mmsg', size, cfg.ms)))
      if (udp) add('send', kind, size, 'ceiling-gso', () => sendRun(kind, blast(kind, 'gso', size, cfg.ms)))
      add('send', kind, size, 'ours', () => sendRun(kind, jsSender(kind, 'ours', 'send', size, cfg.ms)))
      if (udp) {
        add('send', kind, size, 'ours-many', () => sendRun(kind, jsSender(kind, 'ours', 'many', size, cfg.ms)))
        add('send', kind, size, 'ours-gso', () => sendRun(kind, jsSender(kind, 'ours', 'gso', size, cfg.ms)))
        add('send', kind, size, 'node', () => sendRun(kind, jsSender(kind, 'node', 'send', size, cfg.ms)))
      } else {
        for (const peer of unixPeers) add('send', kind, size, peer, () => sendRun(kind, jsSender(kind, peer, 'send', size, cfg.ms)))
      }
      // end to end
      add('e2e', kind, size, 'ceiling', () => receiveRun(kind, { ceiling: 'mmsg' }, blast(kind, 'mmsg', size)))
      add('e2e', kind, size, 'ours', () => receiveRun(kind, { impl: 'ours' }, jsSender(kind, 'ours', udp ? 'many' : 'send', size)))
      if (udp) {
        add('e2e', kind, size, 'ceiling-gso', () => receiveRun(kind, { ceiling: 'gro' }, blast(kind, 'gso', size)))
        add('e2e', kind, size, 'ours-send', () => receiveRun(kind, { impl: 'ours' }, jsSender(kind, 'ours', 'send', size)))
        add('e2e', kind, size, 'ours-gso', () => receiveRun(kind, { impl: 'ours', gro: true }, jsSender(kind, 'ours', 'gso', size)))
        add('e2e', kind, size, 'node', () => receiveRun(kind, { impl: 'node' }, jsSender(kind, 'node', 'send', size)))
      } else {
        for (const peer of unixPeers) add('e2e', kind, size, peer, () => receiveRun(kind, { impl: peer }, jsSender(kind, peer, 'send', size)))
        // With send callbacks: 32 in flight.
        if (size === 64) {
          add('e2e', kind, size, 'ours-window', () => receiveRun(kind, { impl: 'ours' }, jsSender(kind, 'ours', 'window', size)))
          if (peers['unix-dgram']?.ok) add('e2e', kind, size, 'unix-dgram-window', () => receiveRun(kind, { impl: 'unix-dgram' }, jsSender(kind, 'unix-dgram', 'window', size)))
        }
      }
    }
    // round trip: latency moves with whatever else the machine runs, so each pass takes
    // RTT_ROUNDS shorter samples of every library in turn.
    for (let round = 0; round < RTT_ROUNDS; round++) {
      add('rtt', kind, 64, 'ceiling', () => rttRun(kind, { ceiling: true }))
      add('rtt', kind, 64, 'ours', () => rttRun(kind, { impl: 'ours' }))
      if (udp) add('rtt', kind, 64, 'node', () => rttRun(kind, { impl: 'node' }))
      else for (const peer of unixPeers) add('rtt', kind, 64, peer, () => rttRun(kind, { impl: peer }))
    }
  }
  return list
}

async function memoryProfile() {
  const out = {}
  const runs = onlyRe && !onlyRe.test('mem') ? [] : ['ours', 'node']
  for (const impl of runs) {
    const r = js(RECEIVER, { role: 'mem', impl, kind: 'udp4', warm: 100_000, total: cfg.memTotal, maxSecs: quick ? 30 : 150 }, ['--expose-gc'])
    let s
    try {
      const ready = await withTimeout(r.ready, 10000, 'mem start')
      s = ceiling(SENDER, 'send', 'udp4', 'mmsg', 64, 200000, target(ready))
      out[impl] = await withTimeout(r.result, 200000, 'mem result')
    } catch (err) {
      out[impl] = { error: String(err.message) }
    } finally {
      await r.stop()
      await s?.stop()
    }
    log(`  mem ${impl}: ${JSON.stringify(out[impl])}`)
  }
  out.idle = {}
  for (const impl of runs) {
    for (const kind of impl === 'ours' ? ['udp4', 'unix_dgram'] : ['udp4']) {
      const dir = mkdtempSync(path.join(tmp, 'idle-'))
      const r = js(RECEIVER, { role: 'idle', impl, kind, n: cfg.idleSockets, dir }, ['--expose-gc'])
      try {
        out.idle[`${impl}|${kind}`] = await withTimeout(r.result, 60000, 'idle result')
      } catch (err) {
        out.idle[`${impl}|${kind}`] = { error: String(err.message) }
      } finally {
        await r.stop()
      }
    }
  }
  log(`  idle: ${JSON.stringify(out.idle)}`)
  return out
}

// ---- main -----------------------------------------------------------------------------------

/** The share of what the feed offered that the receiver did not take. */
const lossOf = (r) => (r.offered > 0 && r.secs > 0 ? Math.max(0, 1 - r.count / r.secs / r.offered) : undefined)
/** Saturated: the kernel dropped for it (UDP), or it used (nearly) its whole core. */
const saturated = (x) => (x.loss ?? 0) >= 0.05 || (x.cpuShare ?? 0) >= 0.9

function receiveDetail(r) {
  if (r.cpu === undefined) return ''
  const loss = lossOf(r)
  const sat = saturated({ loss, cpuShare: r.cpu / r.secs })
  return ` offered ${r.offered ? (r.offered / 1e6).toFixed(3) + ' M/s' : '?'} loss ${loss === undefined ? '?' : (loss * 100).toFixed(0) + '%'} cpu ${((r.cpu / r.secs) * 100).toFixed(0)}%${sat ? '' : ' (not saturated)'}`
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s.length ? s[Math.floor((s.length - 1) / 2)] : NaN
}

/** Writes the table, chart and docs of `report` (also used by --render FILE). */
async function publish(report) {
  report.goals = goals(report)
  log('')
  log(textTable(report))
  mkdirSync(outDir, { recursive: true })
  writeFileSync(path.join(outDir, 'latest.json'), JSON.stringify(report, null, 2) + '\n')
  const { svg, png } = await renderChart(report)
  writeFileSync(path.join(outDir, 'chart.svg'), svg)
  if (png) writeFileSync(path.join(outDir, 'chart.png'), png)
  else log('! no PNG renderer (@resvg/resvg-js) loaded; wrote chart.svg only')
  const md = markdownReport(report)
  writeFileSync(path.join(outDir, 'latest.md'), md)
  if (!report.config.quick) {
    const targets = [
      [path.join(root, 'docs/bench/README.md'), md],
      [path.join(root, 'README.md'), markdownReport(report, { chart: 'docs/bench/chart.png', short: true })],
    ]
    for (const [file, block] of targets) {
      if (!existsSync(file)) continue
      const text = readFileSync(file, 'utf8')
      const next = text.replace(/<!-- bench:start -->[\s\S]*<!-- bench:end -->/, () => `<!-- bench:start -->\n${block}\n<!-- bench:end -->`)
      if (next !== text) writeFileSync(file, next)
    }
  }
  log(`> wrote ${path.relative(root, outDir)}/latest.json, latest.md, chart.svg${png ? ', chart.png' : ''}`)
}

async function main() {
  const render = option('--render', null)
  if (render) return publish(JSON.parse(readFileSync(render, 'utf8')))
  build()
  const peers = probePeers()
  const info = machine()
  log(`> ${info.cpu}, ${info.cores} cores, ${info.kernel}, node ${info.node}; pinned: ${info.pinned}; load ${info.loadavg.join(' ')}`)
  const list = scenarios(peers)
  log(`> ${list.length} runs x ${cfg.reps} interleaved repetitions (${quick ? 'quick' : 'full'})`)
  const samples = {}
  const errors = {}
  for (let rep = 0; rep < cfg.reps; rep++) {
    for (const sc of list) {
      const began = Date.now()
      try {
        const r = await sc.run()
        ;(samples[sc.id] ??= []).push(r)
        const shown = sc.setting === 'rtt' ? `p50 ${r.p50.toFixed(1)} us p99 ${r.p99.toFixed(1)} us` : `${(r.count / r.secs / 1e6).toFixed(3)} M/s${receiveDetail(r)}`
        log(`  [${rep + 1}/${cfg.reps}] ${sc.id.padEnd(40)} ${shown.padEnd(36)} (${((Date.now() - began) / 1000).toFixed(1)} s)`)
      } catch (err) {
        errors[sc.id] = String(err.message ?? err)
        log(`  [${rep + 1}/${cfg.reps}] ${sc.id.padEnd(40)} failed: ${errors[sc.id].slice(0, 200)}`)
      }
    }
  }
  const results = {}
  for (const [id, rs] of Object.entries(samples)) {
    if (id.startsWith('rtt|')) {
      results[id] = { p50: median(rs.map((r) => r.p50)), p99: median(rs.map((r) => r.p99)), reps: rs.length }
    } else {
      const ok = (r) => r.count - (r.errors ?? 0)
      results[id] = {
        rate: median(rs.map((r) => (r.secs > 0 ? ok(r) / r.secs : 0))),
        bytesRate: median(rs.map((r) => (r.secs > 0 ? (r.bytes * ok(r)) / Math.max(r.count, 1) / r.secs : 0))),
        reps: rs.length,
      }
      // Receivers report their CPU time over the window, and their feed its offered rate.
      if (rs.every((r) => r.cpu !== undefined)) {
        const x = results[id]
        x.cpuShare = median(rs.map((r) => (r.secs > 0 ? r.cpu / r.secs : 0)))
        x.perCpu = median(rs.map((r) => (r.cpu > 0 ? r.count / r.cpu : 0)))
        if (rs.every((r) => r.offered > 0)) {
          x.offered = median(rs.map((r) => r.offered))
          x.loss = median(rs.map((r) => lossOf(r)))
        }
        x.saturated = saturated(x)
      }
    }
  }
  log('> memory profile')
  const memory = await memoryProfile()
  await publish({ config: cfg, machine: info, peers, results, errors, memory })
}

main()
  .catch((err) => {
    console.error(err)
    process.exitCode = 1
  })
  .finally(() => rmSync(tmp, { recursive: true, force: true }))
