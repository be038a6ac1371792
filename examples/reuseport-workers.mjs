// Scaling a UDP server across cores with a reusePort group: one socket per worker thread,
// all bound to the same port; the kernel spreads datagrams over them by hashing each
// datagram's (source address, source port, destination address, destination port).
//
//   node examples/reuseport-workers.mjs [--port 41234] [--workers N] [--demo]
//
// --demo sends datagrams from many source ports to the group, prints how they were shared
// and exits. Without it the server runs until Ctrl-C (try `nc -u 127.0.0.1 41234`).
// reusePort works on Node >= 20 with @dgramx/dgram (node:dgram has it from 22.12 only).
// Linux balances by hash; other platforms may deliver everything to the last socket bound.
import os from 'node:os'
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads'
import dgram from '@dgramx/dgram'

function arg(name, fallback) {
  const i = process.argv.indexOf(`--${name}`)
  return i >= 0 && process.argv[i + 1] !== undefined ? process.argv[i + 1] : fallback
}

if (!isMainThread) {
  // A worker: its own socket in the group; echoes, counts and reports to the main thread.
  const socket = dgram.createSocket({ type: 'udp4', reusePort: true })
  let received = 0
  socket.on('message', (msg, rinfo) => {
    received++
    socket.send(msg, rinfo.port, rinfo.address)
  })
  socket.bind(workerData.port, '127.0.0.1', () => parentPort.postMessage({ listening: socket.address().port }))
  parentPort.on('message', (cmd) => {
    if (cmd === 'count') parentPort.postMessage({ received })
    if (cmd === 'stop') socket.close(() => parentPort.close())
  })
} else {
  const workers = Number(arg('workers', String(Math.max(2, os.availableParallelism()))))
  // --port 0: the first worker takes a free port and the others join it.
  let port = Number(arg('port', '41234'))
  const demo = process.argv.includes('--demo')

  const group = []
  for (let i = 0; i < workers; i++) {
    const w = new Worker(new URL(import.meta.url), { workerData: { port } })
    group.push(w)
    await new Promise((resolve, reject) => {
      w.once('error', reject)
      w.once('message', (m) => (m.listening ? resolve((port = m.listening)) : reject(new Error('unexpected message'))))
    })
  }
  console.log(`${workers} workers share udp4 127.0.0.1:${port} (reusePort)`)

  const ask = (w, cmd) => new Promise((resolve) => {
    w.once('message', resolve)
    w.postMessage(cmd)
  })

  if (demo) {
    // 64 clients, each its own source port, each waiting for its echoes.
    const clients = 64
    const perClient = 8
    await Promise.all(Array.from({ length: clients }, async (_, c) => {
      const s = dgram.createSocket('udp4')
      await new Promise((resolve) => s.bind(0, '127.0.0.1', resolve))
      let echoed = 0
      const done = new Promise((resolve) => s.on('message', () => ++echoed === perClient && resolve()))
      for (let k = 0; k < perClient; k++) s.send(`client ${c} #${k}`, port, '127.0.0.1')
      let timer
      await Promise.race([done, new Promise((resolve) => (timer = setTimeout(resolve, 5000)))])
      clearTimeout(timer)
      s.close()
    }))
    const counts = []
    for (const w of group) counts.push((await ask(w, 'count')).received)
    counts.forEach((n, i) => console.log(`worker ${i}: ${n} datagrams`))
    console.log(`total ${counts.reduce((a, b) => a + b, 0)} of ${clients * perClient}`)
    await Promise.all(group.map((w) => new Promise((resolve) => {
      w.once('exit', resolve)
      w.postMessage('stop')
    })))
  } else {
    process.on('SIGINT', async () => {
      for (const [i, w] of group.entries()) console.log(`worker ${i}: ${(await ask(w, 'count')).received} datagrams`)
      process.exit(0)
    })
  }
}
