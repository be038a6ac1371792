// A short end-to-end check for platforms where the full suite is too slow (armv7 under QEMU) or
// does not apply (Windows): loads packages/dgram/dist with the binary in packages/dgram/native,
// then one udp4, one udp6 and one unix_dgram round trip. On Windows the unix_dgram check is that
// createSocket('unix_dgram') throws ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED. Prints
// "smoke on <platform> <arch>: 3 passed, 0 failed" or exits non-zero.
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

async function udp(type, loopback) {
  const a = dgram.createSocket(type)
  const b = dgram.createSocket(type)
  await new Promise((r) => a.bind(0, loopback, r))
  const got = once(a, 'message')
  b.send('ping', a.address().port, loopback)
  const [msg, rinfo] = await got
  if (msg.toString() !== 'ping') throw new Error(`${type}: wrong payload`)
  if (rinfo.address !== loopback) throw new Error(`${type}: sender ${rinfo.address}`)
  a.close()
  b.close()
}

async function unixUnsupported() {
  try {
    dgram.createSocket('unix_dgram')
  } catch (e) {
    if (e.code === 'ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED') return
    throw e
  }
  throw new Error('unix_dgram: created on Windows')
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

udp('udp4', '127.0.0.1')
  .then(() => udp('udp6', '::1'))
  .then(process.platform === 'win32' ? unixUnsupported : unix)
  .then(
    () => {
      clearTimeout(timer)
      console.log(`smoke on ${process.platform} ${process.arch}: 3 passed, 0 failed`)
    },
    (e) => {
      console.error(e)
      process.exit(1)
    },
  )
