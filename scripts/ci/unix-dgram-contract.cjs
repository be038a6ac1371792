'use strict'
// unix-dgram's contract as traces: each scenario records what a caller observes (events and
// callbacks in order, relative to the calls returning; error shapes; rinfo) and prints one JSON
// line { scenario, trace }. scripts/ci/unix-dgram-compat.sh runs it once with the real
// unix-dgram and once with @dgramx/unix-dgram and compares the traces scenario by scenario.
// Usage: node unix-dgram-contract.cjs <path of the module to test>
//
// Left out, as README.md's differences say: close() twice (unix-dgram aborts the process), a
// non-buffer or a slice past the end (it aborts), address() (it throws 'not implemented', ours
// is an addition), which datagram of a burst is the first one refused (ours keeps one more),
// and where 'writable' falls among received messages.

const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const unix = require(path.resolve(process.argv[2]))
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'udc-'))
let n = 0
const sockPath = () => path.join(dir, `s${n++}.sock`)
const missing = path.join(dir, 'nobody.sock')

/** What an error looks like to a caller; the path-dependent part of messages is kept out. */
function shape(err) {
  if (!err) return err === undefined ? 'undefined' : String(err)
  return { ctor: err.constructor.name, message: err.message, code: err.code, errno: err.errno, syscall: err.syscall, keys: Object.keys(err).sort() }
}

function watch(s, trace, prefix = '') {
  s.on('error', (e) => trace.push([`${prefix}error`, shape(e)]))
  s.on('listening', () => trace.push(`${prefix}listening`))
  s.on('connect', () => trace.push(`${prefix}connect`))
  s.on('close', () => trace.push(`${prefix}close`))
  s.on('congestion', (b) => trace.push([`${prefix}congestion`, String(b)]))
}

const wait = (ms) => new Promise((r) => setTimeout(r, ms))
/** A server bound to `where` that keeps each datagram it gets as [text, rinfo]. */
function listening(where) {
  const got = []
  const server = unix.createSocket('unix_dgram', (b, r) => got.push([String(b), r]))
  server.bind(where)
  return { server, got }
}

async function until(check, ms = 5000) {
  const end = Date.now() + ms
  while (!check() && Date.now() < end) await wait(5)
}

const scenarios = {
  'createSocket': async (t) => {
    const s = unix.createSocket('unix_dgram')
    t.push(['type', s.type, 'fd', typeof s.fd, s.fd >= 0, 'connected', s.connected])
    s.close()
    t.push(['fd after close', s.fd])
    try {
      unix.createSocket('tcp')
    } catch (e) {
      t.push(['bad type', shape(e)])
    }
    const u = unix.createSocket('udp4')
    t.push(['udp4', typeof u.setTTL, typeof u.bind])
    u.close()
  },

  'bind: success, twice, taken by a file, missing directory': async (t) => {
    const s = unix.createSocket('unix_dgram')
    watch(s, t)
    const where = sockPath()
    s.bind(where)
    t.push('returned')
    t.push(['socket file', fs.statSync(where).isSocket()])
    s.bind(sockPath())
    t.push('returned')
    const file = path.join(dir, 'plain-file')
    fs.writeFileSync(file, 'x')
    const f = unix.createSocket('unix_dgram')
    watch(f, t, 'f ')
    f.bind(file)
    f.bind(path.join(dir, 'no-dir', 'x.sock'))
    t.push(['file kept', fs.readFileSync(file, 'utf8')])
    s.close()
    f.close()
    t.push(['socket file after close', fs.existsSync(where)])
    await wait(20)
  },

  'bind/connect failures without an error listener throw from the call': async (t) => {
    const s = unix.createSocket('unix_dgram')
    for (const call of [() => s.connect(missing), () => s.bind(path.join(dir, 'no-dir', 'y.sock'))]) {
      try {
        call()
        t.push('no throw')
      } catch (e) {
        t.push(['thrown', shape(e)])
      }
    }
    s.close()
  },

  'connect in the same tick as the bind; connected sends': async (t) => {
    const where = sockPath()
    const { server, got } = listening(where)
    const c = unix.createSocket('unix_dgram')
    watch(c, t)
    c.connect(missing)
    t.push(['connected after failure', c.connected])
    c.connect(where)
    t.push(['returned', c.connected])
    c.send(Buffer.from('one'), (...a) => t.push(['cb', a.length]))
    t.push('returned')
    // Connected: offset/length are not read; the callback is the second argument.
    c.send(Buffer.from('whole'), (...a) => t.push(['cb2', a.length]), 1, '/elsewhere')
    c.send(Buffer.from('no cb'))
    await until(() => got.length === 3)
    t.push(['got', got])
    server.close()
    c.send(Buffer.from('gone'), (e) => t.push(['after server close', shape(e)]))
    c.send(Buffer.from('gone'))
    c.close()
    await wait(20)
  },

  'unconnected sends: slices, failures by callback and by event, rinfo.path': async (t) => {
    const where = sockPath()
    const { server, got } = listening(where)
    const c = unix.createSocket('unix_dgram')
    watch(c, t)
    c.send(Buffer.from('foobarbaz'), 3, 4, where, (...a) => t.push(['cb', a.length]))
    c.send(Buffer.from('x'), 0, 1, missing, (...a) => t.push(['cb', a.length, shape(a[0])]))
    c.send(Buffer.from('x'), 0, 1, missing)
    t.push('returned')
    const named = unix.createSocket('unix_dgram')
    const namedPath = sockPath()
    named.bind(namedPath)
    named.sendto(Buffer.from('named'), 0, 5, where)
    await until(() => got.length === 2)
    t.push(['got', got.map(([b, r]) => [b, r.size, r.address, r.path === namedPath ? 'the sender path' : r.path])])
    for (const s of [c, named, server]) s.close()
    await wait(20)
  },

  'close: no close event, no message after it, later calls fail with EBADF': async (t) => {
    const where = sockPath()
    const got = []
    const server = unix.createSocket('unix_dgram', (b) => got.push(String(b)))
    watch(server, t)
    server.bind(where)
    const c = unix.createSocket('unix_dgram')
    c.connect(where)
    c.send(Buffer.from('late'))
    server.close()
    t.push('closed')
    server.send(Buffer.from('x'), 0, 1, where, (e) => t.push(['send after close', shape(e)]))
    server.bind(sockPath())
    server.connect(where)
    await wait(50)
    t.push(['received after close', got])
    c.close()
  },

  'UDP options throw': async (t) => {
    const s = unix.createSocket('unix_dgram')
    for (const name of ['setTTL', 'setBroadcast', 'setMulticastTTL', 'setMulticastLoopback', 'addMembership', 'dropMembership']) {
      try {
        s[name](1)
        t.push([name, 'no throw'])
      } catch (e) {
        t.push([name, shape(e)])
      }
    }
    s.close()
  },

  'congestion on a connected socket: callback error, event with the buffer, writable': async (t) => {
    const where = sockPath()
    const got = []
    const server = unix.createSocket('unix_dgram', (b) => got.push(String(b)))
    server.bind(where)
    const c = unix.createSocket('unix_dgram')
    c.connect(where)
    let writable = 0
    c.on('writable', () => writable++)
    const outcomes = []
    const burst = Number(fs.readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8')) + 100
    for (let i = 0; i < burst; i++) c.send(Buffer.from(`m${i}`), (...a) => outcomes.push(a.length === 0 ? 'ok' : JSON.stringify(shape(a[0]))))
    const first = outcomes.findIndex((o) => o !== 'ok')
    t.push(['all callbacks inside send()', outcomes.length === burst])
    t.push(['some sent, then every one refused', first > 0, new Set(outcomes.slice(first)).size])
    t.push(['refusal', JSON.parse(outcomes[first])])
    const events = []
    c.on('congestion', (b) => events.push(b))
    const refused = Buffer.from('no callback')
    c.send(refused)
    t.push(['congestion event', events.length, events[0] === refused])
    await until(() => writable > 0)
    t.push(['writable', writable > 0])
    await until(() => got.length >= first)
    t.push(['accepted arrived in order', got.slice(0, first).every((m, i) => m === `m${i}`)])
    c.close()
    server.close()
  },

  'a full peer and an unconnected send: EAGAIN': async (t) => {
    const where = sockPath()
    const server = unix.createSocket('unix_dgram', () => {})
    server.bind(where)
    const c = unix.createSocket('unix_dgram')
    const outcomes = []
    const burst = Number(fs.readFileSync('/proc/sys/net/unix/max_dgram_qlen', 'utf8')) + 100
    for (let i = 0; i < burst; i++) c.send(Buffer.from('u'), 0, 1, where, (...a) => outcomes.push(a.length === 0 ? 'ok' : JSON.stringify(shape(a[0]))))
    const first = outcomes.findIndex((o) => o !== 'ok')
    t.push(['some sent, then every one refused', first > 0, new Set(outcomes.slice(first)).size])
    t.push(['refusal', JSON.parse(outcomes[first])])
    c.close()
    server.close()
  },
}

async function main() {
  for (const [name, run] of Object.entries(scenarios)) {
    const trace = []
    try {
      await run(trace)
    } catch (e) {
      trace.push(['scenario threw', String(e && e.stack)])
    }
    console.log(JSON.stringify({ scenario: name, trace }))
  }
  fs.rmSync(dir, { recursive: true, force: true })
}
main()
