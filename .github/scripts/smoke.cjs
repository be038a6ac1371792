// A short end-to-end check for platforms where the full suite is too slow (armv7 under QEMU):
// loads packages/dgram/dist with the binary in packages/dgram/native, then one udp4 and one
// unix_dgram round trip. Prints "smoke: 2 passed, 0 failed" or exits non-zero.
'use strict'
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const dgram = require(path.join(__dirname, '../../packages/dgram/dist/index.js'))

const timer = setTimeout(() => {
  console.error('smoke: timed out')
  process.exit(1)
}, 60_000)
const once = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)))

async function udp4() {
  const a = dgram.createSocket('udp4')
  const b = dgram.createSocket('udp4')
  await new Promise((r) => a.bind(0, '127.0.0.1', r))
  const got = once(a, 'message')
  b.send('ping', a.address().port, '127.0.0.1')
  const [msg] = await got
  if (msg.toString() !== 'ping') throw new Error('udp4: wrong payload')
  a.close()
  b.close()
}

async function unix() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'smoke-'))
  const p = path.join(dir, 's.sock')
  const a = dgram.createSocket('unix_dgram')
  const b = dgram.createSocket('unix_dgram')
  await new Promise((r) => a.bind(p, r))
  const got = once(a, 'message')
  const m = Buffer.from('ping')
  b.send(m, 0, m.length, p)
  const [msg] = await got
  if (msg.toString() !== 'ping') throw new Error('unix_dgram: wrong payload')
  a.close()
  b.close()
  fs.rmSync(dir, { recursive: true, force: true })
}

udp4()
  .then(unix)
  .then(
    () => {
      clearTimeout(timer)
      console.log(`smoke on ${process.platform} ${process.arch}: 2 passed, 0 failed`)
    },
    (e) => {
      console.error(e)
      process.exit(1)
    },
  )
