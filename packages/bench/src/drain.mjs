// CPU per received datagram, measured so that other load on the machine barely matters:
// fill a large receive buffer (the ceiling's GSO blaster, while the receiver's event loop is
// blocked and reads nothing), then drain it and divide the receiver's CPU time by the count.
// Used to check that a change costs the 'message' path nothing, against a baseline build:
//
//   node packages/bench/src/drain.mjs [--runs N] [--baseline <package dir>] [--mode message|messages]
//
// (a baseline: a checkout of another commit with its packages/dgram built). Runs alternate
// between builds; the medians are printed. Needs root (forceRecvBufferSize) and Linux.

import { spawn, spawnSync } from 'node:child_process'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../../..')
const argv = process.argv.slice(2)
const option = (name, dflt) => {
  const i = argv.indexOf(name)
  return i >= 0 && argv[i + 1] !== undefined ? argv[i + 1] : dflt
}

async function child(pkg, mode) {
  const dgram = (await import(pathToFileURL(path.join(pkg, 'dist/index.mjs')).href)).default
  const rx = dgram.createSocket('udp4')
  let count = 0
  if (mode === 'messages') rx.on('messages', (b) => { count += b.count })
  else rx.on('message', () => { count++ })
  await new Promise((r) => rx.bind(0, '127.0.0.1', r))
  rx.forceRecvBufferSize(512 * 1024 * 1024)
  const blaster = spawn(path.join(root, 'target/release/dgramx-ceiling'), ['send', 'udp4', 'gso', '64', '400', String(rx.address().port)], { stdio: 'ignore' })
  // Block the event loop while the blaster fills the buffer: nothing is read meanwhile.
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 700)
  await new Promise((r) => blaster.on('exit', r))
  const c0 = process.cpuUsage()
  let last = -1
  // Bounded: the buffer holds a finite number of datagrams.
  for (let i = 0; i < 1000 && count !== last; i++) {
    last = count
    await new Promise((r) => setTimeout(r, 30))
  }
  const c = process.cpuUsage(c0)
  process.stdout.write(JSON.stringify({ count, ns: ((c.user + c.system) * 1e3) / count }) + '\n')
  rx.close()
}

function median(xs) {
  const s = [...xs].sort((a, b) => a - b)
  return s[Math.floor((s.length - 1) / 2)]
}

async function main() {
  const runs = Number(option('--runs', 6))
  const mode = option('--mode', 'message')
  const builds = [['this build', path.join(root, 'packages/dgram')]]
  const baseline = option('--baseline', null)
  if (baseline) builds.push(['baseline', path.resolve(baseline)])
  const pin = spawnSync('taskset', ['-c', '1', 'true']).status === 0 && os.cpus().length >= 2
  const samples = new Map(builds.map(([name]) => [name, []]))
  for (let i = 0; i < runs; i++) {
    for (const [name, pkg] of i % 2 ? [...builds].reverse() : builds) {
      const args = [fileURLToPath(import.meta.url), '--child', pkg, mode]
      const r = spawnSync(pin ? 'taskset' : process.execPath, pin ? ['-c', '1', process.execPath, ...args] : args, { encoding: 'utf8', timeout: 60000 })
      const line = r.stdout.trim().split('\n').pop()
      const x = JSON.parse(line)
      samples.get(name).push(x.ns)
      console.log(`  ${name.padEnd(10)} ${mode}: ${x.count} datagrams, ${x.ns.toFixed(1)} ns CPU each`)
    }
  }
  for (const [name, xs] of samples) console.log(`${name}: median ${median(xs).toFixed(1)} ns of receiver CPU per datagram ('${mode}', ${xs.length} runs)`)
}

if (argv[0] === '--child') child(argv[1], argv[2])
else main()
