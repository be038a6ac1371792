// bind({ fd }): adopting a descriptor another process opened, the way systemd socket
// activation hands one over. A python3 launcher opens and binds the socket, puts it on fd 3
// and execs Node (or the runtime under test for ours; node:dgram always runs under real Node,
// see childExecutable), which adopts it; the same scenario runs against node:dgram where
// node:dgram supports it (UDP) and the observations are compared.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { builtPackage, childExecutable } from './child'
import { createSocket, kNative } from '../src/index'
import { dgramx, type Dgram, errorShape, onNode, once, outcome } from './harness'
import { isDeno, runtimeCommand } from './runtime'
import { timeScale } from './time-scale'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-fd-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

// Opens a socket of `family` bound to `address`, moves it to fd 3 and execs the command given
// (a runtime and `script`) with `impl` as its last argument.
const LAUNCHER = `
import os, socket, sys
family, address, impl = sys.argv[1:4]
command = sys.argv[4:]
if family == 'unix':
    s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    s.bind(address)
else:
    fam = socket.AF_INET if family == 'udp4' else socket.AF_INET6
    s = socket.socket(fam, socket.SOCK_DGRAM)
    s.bind((address, 0))
os.dup2(s.fileno(), 3)
os.set_inheritable(3, True)
os.environ['LISTEN_FDS'] = '1'
os.execv(command[0], command + [impl])
`

// Adopts fd 3, checks 'listening' came inside bind(), receives one datagram from a helper
// socket, closes, and reports whether fd 3 is gone afterwards.
const CHILD = `
const [impl] = process.argv.slice(2)
const dgram = require(impl === 'node' ? 'node:dgram' : ${JSON.stringify(builtPackage)})
const nodeDgram = require('node:dgram')
const fs = require('node:fs')
const type = process.env.DGX_TYPE
const s = dgram.createSocket(type)
let listeningInsideBind = false
let inBind = true
s.on('listening', () => { listeningInsideBind = inBind })
let callbackRan = false
s.bind({ fd: 3 }, () => { callbackRan = true })
inBind = false
const addr = s.address()
const done = (got) => {
  s.close(() => setImmediate(() => {
    const report = { listeningInsideBind, callbackRan, addr: { ...addr, port: typeof addr.port }, got, fd3Open: fs.existsSync('/proc/self/fd/3') }
    process.stdout.write(JSON.stringify(report))
  }))
}
s.once('message', (msg, rinfo) => done({ msg: String(msg), size: rinfo.size }))
if (type === 'unix_dgram') {
  const c = dgram.createSocket('unix_dgram')
  c.send(Buffer.from('through the adopted fd'), addr.address, () => c.close())
} else {
  const c = nodeDgram.createSocket(type)
  c.send('through the adopted fd', addr.port, addr.address, () => c.close())
}
`

async function launch(type: 'udp4' | 'udp6' | 'unix_dgram', impl: 'node' | 'dgramx', address: string): Promise<Record<string, unknown>> {
  const script = path.join(tmp, 'child.cjs')
  fs.writeFileSync(script, CHILD)
  const family = type === 'unix_dgram' ? 'unix' : type
  // node:dgram's run is real Node's; ours runs under whatever runs the tests (Deno: `deno run`).
  const command = impl === 'node' ? [childExecutable('node'), script] : runtimeCommand(script)
  const child = spawn('python3', ['-c', LAUNCHER, family, address, impl, ...command], {
    env: { ...process.env, DGX_TYPE: type },
    stdio: ['ignore', 'pipe', 'pipe'],
  })
  let stdout = ''
  let stderr = ''
  child.stdout.on('data', (d: Buffer) => (stdout += d))
  child.stderr.on('data', (d: Buffer) => (stderr += d))
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000 * timeScale)
  const [code] = (await once(child, 'close', 15_000)) as [number | null]
  clearTimeout(timer)
  expect(stderr).toBe('')
  expect(code).toBe(0)
  return JSON.parse(stdout) as Record<string, unknown>
}

describe('bind({ fd }) adopts a descriptor handed over by another process', () => {
  it.each([
    ['udp4', '127.0.0.1'],
    ['udp6', '::1'],
  ] as const)('%s: the same observations as node:dgram', async (type, address) => {
    const theirs = await launch(type, 'node', address)
    const ours = await launch(type, 'dgramx', address)
    expect(ours).toEqual(theirs)
    // What both saw, spelled out: listening inside bind(), the socket's own address, the
    // datagram, and the descriptor closed with the socket.
    expect(ours).toMatchObject({
      listeningInsideBind: true,
      callbackRan: true,
      addr: { address, family: type === 'udp4' ? 'IPv4' : 'IPv6', port: 'number' },
      got: { msg: 'through the adopted fd', size: 22 },
      fd3Open: false,
    })
  })

  it('unix_dgram: a bound AF_UNIX datagram socket is adopted with its path', async () => {
    const sockPath = path.join(tmp, 'activated.sock')
    const ours = await launch('unix_dgram', 'dgramx', sockPath)
    expect(ours).toEqual({
      listeningInsideBind: true,
      callbackRan: true,
      addr: { address: sockPath, port: 'undefined' },
      got: { msg: 'through the adopted fd', size: 22 },
      fd3Open: false,
    })
  })
})

function bindOutcome(d: Dgram, fd: number): Record<string, unknown> {
  const s = d.createSocket('udp4')
  const result = outcome(() => s.bind({ fd }))
  s.close()
  return result
}

describe('bind({ fd }) refuses descriptors of the wrong kind', () => {
  it('a regular file: ERR_INVALID_FD_TYPE "Unsupported fd type: FILE", as node:dgram', async () => {
    const file = path.join(tmp, 'plain-file')
    fs.writeFileSync(file, 'x')
    const fd = fs.openSync(file, 'r')
    try {
      const shapes = [await onNode((d) => bindOutcome(d, fd)), bindOutcome(dgramx, fd)]
      expect(shapes[1]).toEqual(shapes[0])
      expect(shapes[1].threw).toMatchObject({ code: 'ERR_INVALID_FD_TYPE', isTypeError: true, message: 'Unsupported fd type: FILE' })
      // The descriptor still belongs to its owner.
      expect(fs.fstatSync(fd).isFile()).toBe(true)
    } finally {
      fs.closeSync(fd)
    }
  })

  // The descriptor comes from net.Server's _handle, which Deno's node:net lacks.
  it.skipIf(isDeno)('a TCP listener: "Unsupported fd type: TCP", as node:dgram', async () => {
    const server = net.createServer().listen(0, '127.0.0.1')
    await once(server, 'listening')
    const fd = (server as unknown as { _handle: { fd: number } })._handle.fd
    expect(fd).toBeGreaterThan(0)
    const shapes = [await onNode((d) => bindOutcome(d, fd)), bindOutcome(dgramx, fd)]
    expect(shapes[1]).toEqual(shapes[0])
    expect(shapes[1].threw).toMatchObject({ code: 'ERR_INVALID_FD_TYPE', message: 'Unsupported fd type: TCP' })
    server.close()
  })

  it('a UDP descriptor of the other family, or a UDP one for unix_dgram, is refused', async () => {
    const owner = createSocket('udp4')
    owner.bind(0, '127.0.0.1')
    await once(owner, 'listening')
    // A descriptor number we can read but must not steal: the refusal leaves it alone.
    const fd = owner[kNative]!.fd()
    const v6 = createSocket('udp6')
    expect(errorShape(captureThrow(() => v6.bind({ fd })))).toMatchObject({
      code: 'ERR_INVALID_FD_TYPE',
      message: 'Unsupported fd type: UDP (a socket of the other IP family)',
    })
    const unix = createSocket('unix_dgram')
    expect(errorShape(captureThrow(() => unix.bind({ fd })))).toMatchObject({ code: 'ERR_INVALID_FD_TYPE', message: 'Unsupported fd type: UDP' })
    // Refused, so still unbound and usable (node:dgram would stay stuck in "binding").
    v6.bind(0, '::1')
    await once(v6, 'listening')
    expect(v6.address().port).toBeGreaterThan(0)
    // The owner still works on its descriptor.
    const echo = once(owner, 'message')
    v6.close()
    const c = createSocket('udp4')
    c.send('still mine', owner.address().port, '127.0.0.1')
    const [msg] = await echo
    expect(String(msg)).toBe('still mine')
    c.close()
    owner.close()
    unix.close()
  })

  it('an fd of 0 or below, or not an integer, is ignored and a normal bind follows (as node:dgram)', async () => {
    for (const fd of [0, -1, 1.5]) {
      const s = createSocket('udp4')
      s.bind({ fd, port: 0, address: '127.0.0.1' })
      await once(s, 'listening')
      expect(s.address().port).toBeGreaterThan(0)
      s.close()
    }
  })
})

function captureThrow(fn: () => unknown): unknown {
  try {
    fn()
  } catch (e) {
    return e
  }
  throw new Error('expected a throw')
}
