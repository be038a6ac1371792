#!/usr/bin/env node
// Receive capacity of a reusePort group vs. its number of worker threads.
//
//   node scripts/bench-reuseport.mjs [--workers 1,2,4] [--senders 1] [--flows 32] [--ms 2000] [--size 64] [--work 20]
//
// For each group size, W worker threads each bind a udp4 socket with reusePort to one port
// on 127.0.0.1 and count what they receive; `--senders` child processes blast `--size`-byte
// datagrams at it from `--flows` source ports each (sendmmsg batches) for `--ms` ms. The
// kernel hashes each flow's 4-tuple to a member, so more flows spread more evenly.
// `--work` is the CPU each receiver spends per datagram, in microseconds (a stand-in for
// parsing and answering; 0 measures the bare receive path, where loopback senders, which
// also pay the kernel's receive cost, are usually the limit).
//
// Numbers depend on the machine: senders and receivers share its cores, so on a 2-core box
// the curve flattens at 2 workers and the senders themselves take CPU. Run it on an idle
// machine; it prints the core count so rows can be compared.
import { spawn } from 'node:child_process'
import os from 'node:os'
import { fileURLToPath } from 'node:url'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import dgram, { kNative } from '@dgramx/dgram'

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}

if (!isMainThread) {
  // Receiver: one member of the group.
  const s = dgram.createSocket({ type: 'udp4', reusePort: true, recvBufferSize: 4 << 20 })
  let received = 0
  const workNs = BigInt(Math.round(workerData.work * 1000))
  s.on('message', () => {
    received++
    if (workNs > 0n) {
      const until = process.hrtime.bigint() + workNs
      while (process.hrtime.bigint() < until);
    }
  })
  s.bind(workerData.port, '127.0.0.1', () => parentPort.postMessage({ port: s.address().port }))
  parentPort.on('message', (cmd) => {
    if (cmd === 'reset') received = 0
    if (cmd === 'count') parentPort.postMessage({ received })
    if (cmd === 'stop') s.close(() => parentPort.close())
  })
} else if (process.argv[2] === '--sender') {
  // Sender process: `flows` sockets, round robin, batches of 64 through sendmmsg.
  const [port, ms, flows, size] = process.argv.slice(3).map(Number)
  const payload = Buffer.alloc(size, 0x61)
  const batch = Array(64).fill(payload)
  const sockets = []
  for (let i = 0; i < flows; i++) {
    const s = dgram.createSocket('udp4')
    await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve))
    sockets.push(s)
  }
  let sent = 0
  const end = Date.now() + ms
  while (Date.now() < end) {
    for (const s of sockets) {
      const native = s[kNative]
      // Keep the native queue short: what the kernel refuses now is not worth queueing.
      if (native.getSendQueueCount() > 256) continue
      const r = native.sendMany(batch, '127.0.0.1', port)
      sent += r.sent
    }
    await new Promise((resolve) => setImmediate(resolve))
  }
  for (const s of sockets) s.close()
  console.log(JSON.stringify({ sent }))
} else {
  const sizes = arg('workers', '1,2,4').split(',').map(Number)
  const senders = Number(arg('senders', '1'))
  const work = Number(arg('work', '20'))
  const flows = Number(arg('flows', '32'))
  const ms = Number(arg('ms', '2000'))
  const size = Number(arg('size', '64'))
  const self = fileURLToPath(import.meta.url)
  const ask = (w, cmd) =>
    new Promise((resolve) => {
      w.once('message', resolve)
      w.postMessage(cmd)
    })

  console.log(`reusePort receive capacity: ${os.availableParallelism()} cores, node ${process.version}, ${senders} sender processes x ${flows} flows, ${size}-byte datagrams, ${work} µs of work per datagram, ${ms} ms per row`)
  const rows = []
  for (const n of sizes) {
    let port = 0
    const group = []
    for (let i = 0; i < n; i++) {
      const w = new Worker(new URL(import.meta.url), { workerData: { port, work } })
      group.push(w)
      port = (await new Promise((resolve) => w.once('message', resolve))).port
    }
    const results = await Promise.all(
      Array.from({ length: senders }, () =>
        new Promise((resolve, reject) => {
          const child = spawn(process.execPath, [self, '--sender', String(port), String(ms), String(flows), String(size)], { stdio: ['ignore', 'pipe', 'inherit'] })
          let out = ''
          child.stdout.on('data', (d) => (out += d))
          child.on('close', (code) => (code === 0 ? resolve(JSON.parse(out).sent) : reject(new Error(`sender exited ${code}`))))
        }),
      ),
    )
    // Let the receivers finish what is already queued for them.
    await new Promise((resolve) => setTimeout(resolve, 200))
    const counts = []
    for (const w of group) counts.push((await ask(w, 'count')).received)
    await Promise.all(group.map((w) => new Promise((resolve) => (w.once('exit', resolve), w.postMessage('stop')))))
    const sent = results.reduce((a, b) => a + b, 0)
    const received = counts.reduce((a, b) => a + b, 0)
    rows.push({
      workers: n,
      'sent/s': Math.round((sent / ms) * 1000),
      'received/s': Math.round((received / ms) * 1000),
      delivered: `${((100 * received) / Math.max(1, sent)).toFixed(1)}%`,
      'per worker (share)': counts.map((c) => `${((100 * c) / Math.max(1, received)).toFixed(0)}%`).join(' / '),
    })
  }
  console.table(rows)
}
