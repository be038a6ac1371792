// Soak: many sockets of all three types moving datagrams at once, plus sockets opened and
// closed in a loop, then a check that nothing leaked and nothing promised was lost.
//   node scripts/soak.mjs           short mode (CI): a few hundred thousand datagrams
//   node scripts/soak.mjs --long    release check: millions of datagrams
// Unix datagrams go through flow control, so every one must arrive, in order per sender.
// UDP on loopback may drop when a receive buffer overflows (the kernel's choice, reported
// here); what arrives must be in order per sender. Exits non-zero on any violation.

import { createSocket } from '@dgramx/dgram'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

const long = process.argv.includes('--long')
const PAIRS = long ? 8 : 4 // sender/receiver pairs per socket type
const PER_SENDER = long ? 400_000 : 40_000
const WINDOW = 256 // datagrams in flight per UDP sender before it waits for its callbacks
const CHURN = long ? 20_000 : 2_000 // sockets opened and closed in the loop
const DEADLINE_MS = long ? 20 * 60_000 : 120_000

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-soak-'))
const deadline = setTimeout(() => fail(`soak did not finish within ${DEADLINE_MS / 1000} s`), DEADLINE_MS)

const fds = () => fs.readdirSync('/proc/self/fd').length
const threads = () => Number(/Threads:\s+(\d+)/.exec(fs.readFileSync('/proc/self/status', 'utf8'))[1])
const rssMB = () => process.memoryUsage.rss() / 2 ** 20

function fail(message) {
  console.error(`soak: FAILED: ${message}`)
  process.exit(1)
}

const on = (emitter, event) => new Promise((resolve) => emitter.once(event, resolve))

async function bound(type, where) {
  const s = createSocket(type)
  if (type === 'unix_dgram') s.bind(where)
  else s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1')
  await on(s, 'listening')
  return s
}

/** One sender → one receiver; datagrams carry (sender id, sequence number). */
async function stream(type, id) {
  const receiver = await bound(type, path.join(tmp, `r${id}.sock`))
  receiver.setRecvBufferSize(1 << 20)
  const sender = createSocket(type)
  const to = receiver.address()
  let received = 0
  let last = -1
  let disorder = 0
  const allIn = type === 'unix_dgram' ? new Promise((resolve) => (receiver.onDone = resolve)) : null
  receiver.on('message', (msg) => {
    const seq = msg.readUInt32LE(4)
    if (msg.readUInt32LE(0) !== id) fail(`${type}: datagram of sender ${msg.readUInt32LE(0)} reached receiver ${id}`)
    if (seq <= last) disorder++
    last = seq
    received++
    if (received === PER_SENDER) receiver.onDone?.()
  })
  let sent = 0
  for (let base = 0; base < PER_SENDER; base += WINDOW) {
    const n = Math.min(WINDOW, PER_SENDER - base)
    await new Promise((resolve, reject) => {
      let pending = n
      for (let i = 0; i < n; i++) {
        const buf = Buffer.alloc(64)
        buf.writeUInt32LE(id, 0)
        buf.writeUInt32LE(base + i, 4)
        const done = (err) => {
          if (err) return reject(new Error(`${type} send failed: ${err.code}`))
          sent++
          // Yield to the event loop between windows so the receivers get to read.
          if (--pending === 0) setImmediate(resolve)
        }
        if (type === 'unix_dgram') sender.send(buf, 0, buf.length, to.address, done)
        else sender.send(buf, to.port, to.address, done)
      }
    })
  }
  if (allIn) await allIn
  else await new Promise((r) => setTimeout(r, 200)) // let the last UDP datagrams land
  sender.close()
  receiver.close()
  return { type, id, sent, received, disorder }
}

async function churn(round) {
  for (let i = 0; i < CHURN; i++) {
    const type = ['udp4', 'udp6', 'unix_dgram'][i % 3]
    const file = path.join(tmp, `c${round}-${i}.sock`)
    const s = await bound(type, file)
    await new Promise((resolve) => s.close(resolve))
    // close() removes the socket file it bound (unlinkOnClose defaults to true): one left
    // behind would be a leak of names, as an fd left open is a leak of descriptors.
    if (type === 'unix_dgram' && fs.existsSync(file)) throw new Error(`close() left ${file} behind`)
  }
}

const before = { fds: fds(), threads: threads(), rss: rssMB() }
console.log(`soak (${long ? 'long' : 'short'}): ${PAIRS} pairs per type x ${PER_SENDER} datagrams, ${CHURN} open/close cycles`)
console.log(`before: rss ${before.rss.toFixed(1)} MB, ${before.fds} fds, ${before.threads} threads`)
const started = Date.now()

// First round warms up (V8, allocator pools); RSS growth is measured over the second.
let results = []
let afterWarmup
for (const round of [1, 2]) {
  const jobs = []
  for (const type of ['udp4', 'udp6', 'unix_dgram']) for (let i = 0; i < PAIRS; i++) jobs.push(stream(type, round * 1000 + jobs.length))
  jobs.push(churn(round))
  results = (await Promise.all(jobs)).filter(Boolean)
  if (round === 1) {
    global.gc?.()
    afterWarmup = { fds: fds(), threads: threads(), rss: rssMB() }
    console.log(`after the warm-up round: rss ${afterWarmup.rss.toFixed(1)} MB, ${afterWarmup.fds} fds (the binding's epoll and wake-up descriptors live as long as the process), ${afterWarmup.threads} threads`)
  }
}
global.gc?.()
await new Promise((r) => setTimeout(r, 100))
const after = { fds: fds(), threads: threads(), rss: rssMB() }
clearTimeout(deadline)
fs.rmSync(tmp, { recursive: true, force: true })

const seconds = (Date.now() - started) / 1000
for (const type of ['udp4', 'udp6', 'unix_dgram']) {
  const rows = results.filter((r) => r.type === type)
  const sent = rows.reduce((a, r) => a + r.sent, 0)
  const received = rows.reduce((a, r) => a + r.received, 0)
  const disorder = rows.reduce((a, r) => a + r.disorder, 0)
  console.log(`${type.padEnd(10)} sent ${sent}, received ${received} (${(100 * received / sent).toFixed(2)} %), out of order ${disorder}`)
  if (disorder > 0) fail(`${type}: ${disorder} datagrams out of order`)
  if (type === 'unix_dgram' && received !== sent) fail(`unix_dgram lost ${sent - received} datagrams under flow control`)
}
const growth = after.rss - afterWarmup.rss
console.log(`after:  rss ${after.rss.toFixed(1)} MB (${growth >= 0 ? '+' : ''}${growth.toFixed(1)} MB over the measured round), ${after.fds} fds, ${after.threads} threads; ${seconds.toFixed(1)} s`)
if (after.fds > afterWarmup.fds) fail(`descriptors leaked: ${afterWarmup.fds} -> ${after.fds}`)
if (after.threads > before.threads) fail(`threads left behind: ${before.threads} -> ${after.threads}`)
if (growth > 32) fail(`RSS grew ${growth.toFixed(1)} MB over one round`)
console.log('soak: OK')
