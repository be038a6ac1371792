// Real round trips over udp4, udp6 and unix_dgram through @dgramx/dgram, the way a user would
// write them: an echo server and a client per socket type, every reply checked and timed. Then
// the same udp4 ping-pong through node:dgram for comparison. Exits non-zero if anything fails;
// every wait is bounded.
import { createSocket } from '@dgramx/dgram'
import nodeDgram from 'node:dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const PINGS = 3
const LATENCY_ROUNDS = 2000
const DEADLINE_MS = 10_000

const tmp = mkdtempSync(path.join(tmpdir(), 'dgramx-demo-'))
const deadline = setTimeout(() => {
  console.error(`demo: no answer within ${DEADLINE_MS} ms`)
  process.exit(1)
}, DEADLINE_MS)

try {
  console.log('dgramx demo: echo round trips through @dgramx/dgram\n')
  await udpRoundTrips('udp4', '127.0.0.1')
  await udpRoundTrips('udp6', '::1')
  await unixRoundTrips()
  await latencyComparison()
  console.log('\nAll round trips completed.')
} finally {
  clearTimeout(deadline)
  rmSync(tmp, { recursive: true, force: true })
}

async function udpRoundTrips(type, host) {
  const server = createSocket(type)
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address))
  await listening(server, (done) => server.bind(0, host, done))
  const { port } = server.address()
  console.log(`[${type}] echo server listening on ${formatHost(host)}:${port}`)

  const client = createSocket(type)
  for (let i = 1; i <= PINGS; i++) {
    const text = `${type} ping #${i}`
    const started = process.hrtime.bigint()
    const [reply, rinfo] = await exchange(client, () => client.send(text, port, host))
    const micros = Number(process.hrtime.bigint() - started) / 1000
    expectEcho(reply, text)
    const me = client.address()
    console.log(
      `[${type}] ${formatHost(me.address)}:${me.port} -> ${formatHost(rinfo.address)}:${rinfo.port} ` +
        `"${reply}" (${rinfo.size} bytes, ${rinfo.family}) in ${micros.toFixed(0)} µs`,
    )
  }
  await Promise.all([closed(client), closed(server)])
}

async function unixRoundTrips() {
  const serverPath = path.join(tmp, 'echo.sock')
  const server = createSocket('unix_dgram')
  // An unbound sender has no address to answer to, so the server only echoes to named senders.
  server.on('message', (msg, rinfo) => {
    if (rinfo.address) server.send(msg, 0, msg.length, rinfo.address)
  })
  await listening(server, (done) => server.bind(serverPath, done))
  console.log(`[unix_dgram] echo server bound to ${server.address().address}`)

  const clientPath = path.join(tmp, 'client.sock')
  const client = createSocket('unix_dgram')
  await listening(client, (done) => client.bind(clientPath, done))
  for (let i = 1; i <= PINGS; i++) {
    const message = Buffer.from(`unix_dgram ping #${i}`)
    const started = process.hrtime.bigint()
    const [reply, rinfo] = await exchange(client, () => client.send(message, 0, message.length, serverPath))
    const micros = Number(process.hrtime.bigint() - started) / 1000
    expectEcho(reply, message.toString())
    console.log(`[unix_dgram] ${clientPath} -> ${rinfo.address} "${reply}" (${rinfo.size} bytes) in ${micros.toFixed(0)} µs`)
  }

  // A datagram far larger than UDP allows travels whole over a unix socket.
  const big = Buffer.alloc(200 * 1024, 0x61)
  client.setSendBufferSize(512 * 1024)
  server.setRecvBufferSize(512 * 1024)
  server.setSendBufferSize(512 * 1024)
  client.setRecvBufferSize(512 * 1024)
  const [bigReply] = await exchange(client, () => client.send(big, 0, big.length, serverPath))
  if (!bigReply.equals(big)) throw new Error('the 200 KiB datagram came back different')
  console.log(`[unix_dgram] a ${big.length}-byte datagram made the round trip whole`)

  // An unbound sender: the server sees an empty address.
  const anonymous = createSocket('unix_dgram')
  const seen = new Promise((resolve) => server.once('message', (_msg, rinfo) => resolve(rinfo)))
  anonymous.send(Buffer.from('from nobody'), 0, 11, serverPath)
  const rinfo = await seen
  console.log(`[unix_dgram] an unbound sender arrives with address ${JSON.stringify(rinfo.address)}`)
  await Promise.all([closed(anonymous), closed(client), closed(server)])
}

async function latencyComparison() {
  console.log(`\n[udp4] ping-pong latency over ${LATENCY_ROUNDS} round trips (one sample; see \`pnpm bench\` for real numbers)`)
  // Both run once unmeasured first, so neither pays for JIT warm-up in the numbers shown.
  await pingPong((type) => createSocket(type))
  await pingPong((type) => nodeDgram.createSocket(type))
  const ours = await pingPong((type) => createSocket(type))
  const theirs = await pingPong((type) => nodeDgram.createSocket(type))
  const row = (name, s) => `  ${name.padEnd(14)} p50 ${s.p50.toFixed(1).padStart(6)} µs   p99 ${s.p99.toFixed(1).padStart(6)} µs`
  console.log(row('@dgramx/dgram', ours))
  console.log(row('node:dgram', theirs))
}

async function pingPong(create) {
  const server = create('udp4')
  server.on('message', (msg, rinfo) => server.send(msg, rinfo.port, rinfo.address))
  await listening(server, (done) => server.bind(0, '127.0.0.1', done))
  const client = create('udp4')
  await listening(client, (done) => client.bind(0, '127.0.0.1', done))
  const { port } = server.address()
  const payload = Buffer.alloc(64)
  const samples = []
  await new Promise((resolve) => {
    let started = 0n
    const ping = () => {
      started = process.hrtime.bigint()
      client.send(payload, port, '127.0.0.1')
    }
    client.on('message', () => {
      samples.push(Number(process.hrtime.bigint() - started) / 1000)
      if (samples.length === LATENCY_ROUNDS) resolve()
      else ping()
    })
    ping()
  })
  await Promise.all([closed(client), closed(server)])
  samples.sort((a, b) => a - b)
  return { p50: samples[Math.floor(samples.length * 0.5)], p99: samples[Math.floor(samples.length * 0.99)] }
}

function listening(socket, bind) {
  return new Promise((resolve, reject) => {
    socket.once('error', reject)
    bind(() => {
      socket.off('error', reject)
      resolve()
    })
  })
}

function exchange(socket, send) {
  return new Promise((resolve, reject) => {
    const onError = (err) => {
      socket.off('message', onMessage)
      reject(err)
    }
    const onMessage = (msg, rinfo) => {
      socket.off('error', onError)
      resolve([msg, rinfo])
    }
    socket.once('message', onMessage)
    socket.once('error', onError)
    send()
  })
}

function closed(socket) {
  return new Promise((resolve) => socket.close(resolve))
}

function expectEcho(reply, sent) {
  if (reply.toString() !== sent) throw new Error(`expected "${sent}" back, got "${reply}"`)
}

function formatHost(address) {
  return address.includes(':') ? `[${address}]` : address
}
