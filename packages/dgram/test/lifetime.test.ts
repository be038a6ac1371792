// A socket keeps its process alive exactly like node:dgram: while bound (and not unref'd).
// Each case runs in a child process against both implementations.
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, kNative } from '../src/index'
import { runScript } from './child'
import { foreignRuntime, once, tempDir } from './harness'

// A case that must stay alive is killed after STAYS_ALIVE_MS; one that must exit gets twice
// that to do so (a Node process exits in well under a second, but an emulated one under load
// takes seconds to start at all). Both implementations get the same deadline.
const STAYS_ALIVE_MS = 1500
const EXITS_WITHIN_MS = 2 * STAYS_ALIVE_MS

interface Case {
  name: string
  script: string
  stays: boolean
  udpOnly?: boolean
}

const cases: Case[] = [
  { name: 'a bound socket that is closed lets the process exit', script: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => s.close());`, stays: false },
  { name: 'a bound socket keeps the process alive', script: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => console.log('bound'));`, stays: true },
  { name: 'unref() after bind lets the process exit', script: `const s = dgram.createSocket('udp6'); s.bind(0, '::1', () => s.unref());`, stays: false },
  { name: 'unref() before bind persists', script: `const s = dgram.createSocket('udp4'); s.unref(); s.bind(0, '127.0.0.1');`, stays: false },
  { name: 'ref() after unref() holds again', script: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => { s.unref(); s.ref(); });`, stays: true },
  { name: 'an unbound socket does not hold the process', script: `const s = dgram.createSocket('udp4'); console.log(typeof s);`, stays: false },
  { name: 'a socket that sent (implicitly bound) holds until closed', script: `const s = dgram.createSocket({ type: 'udp4', lookup: (h, f, cb) => cb(null, '127.0.0.1', 4) }); s.send('x', 9, '127.0.0.1', () => setTimeout(() => s.close(), 100));`, stays: false },
  { name: 'a connected socket holds', script: `const s = dgram.createSocket('udp4'); s.bind(0, '127.0.0.1', () => s.connect(s.address().port, '127.0.0.1'));`, stays: true },
]

describe('process lifetime (differential)', () => {
  it.each(cases)('$name', async ({ script, stays }) => {
    const [theirs, mine] = await Promise.all([
      runScript(script, 'node', { timeoutMs: stays ? STAYS_ALIVE_MS : EXITS_WITHIN_MS }),
      runScript(script, 'dgramx', { timeoutMs: stays ? STAYS_ALIVE_MS : EXITS_WITHIN_MS }),
    ])
    expect(theirs.killed).toBe(stays)
    expect(mine.killed).toBe(theirs.killed)
    expect(mine.stdout).toBe(theirs.stdout)
    if (!stays) {
      expect(mine.code).toBe(0)
      expect(mine.stderr).toBe('')
    }
  })
})

describe('unix_dgram lifetime', () => {
  it('a bound unix socket holds the process; closed, it exits', async () => {
    const dir = tempDir()
    const held = await runScript(`const s = dgram.createSocket('unix_dgram'); s.bind(${JSON.stringify(path.join(dir, 'a'))});`, 'dgramx', { timeoutMs: STAYS_ALIVE_MS })
    expect(held.killed).toBe(true)
    const done = await runScript(`const s = dgram.createSocket('unix_dgram'); s.bind(${JSON.stringify(path.join(dir, 'b'))}, () => s.close());`, 'dgramx', { timeoutMs: 5000 })
    expect(done.killed).toBe(false)
    expect(done.code).toBe(0)
    const unrefd = await runScript(`const s = dgram.createSocket('unix_dgram'); s.bind(${JSON.stringify(path.join(dir, 'c'))}, () => s.unref());`, 'dgramx', { timeoutMs: 5000 })
    expect(unrefd.killed).toBe(false)
  })

  it('an unnamed sender exits once its send is done', async () => {
    const dir = tempDir()
    const receiver = createSocket('unix_dgram')
    receiver.bind(path.join(dir, 'r'))
    await once(receiver, 'listening')
    const got = once(receiver, 'message')
    const result = await runScript(`const s = dgram.createSocket('unix_dgram'); s.send('bye', ${JSON.stringify(path.join(dir, 'r'))});`, 'dgramx', { timeoutMs: 5000 })
    expect(result.killed).toBe(false)
    expect(String((await got)[0])).toBe('bye')
    receiver.close()
  })
})

describe('resources', () => {
  function openFds(): number {
    return fs.readdirSync('/proc/self/fd').length
  }

  it('closing sockets returns the descriptor count to where it was', async () => {
    // Warm up: the first socket of a process also creates the shared reactor.
    const warm = createSocket('udp4')
    warm.bind(0, '127.0.0.1')
    await once(warm, 'listening')
    const before = openFds()
    const sockets = []
    for (const type of ['udp4', 'udp6', 'unix_dgram'] as const) {
      for (let i = 0; i < 5; i++) {
        const s = type === 'unix_dgram' ? createSocket(type).bind(path.join(tempDir(), 's')) : createSocket(type).bind(0, type === 'udp4' ? '127.0.0.1' : '::1')
        await once(s, 'listening')
        sockets.push(s)
      }
    }
    expect(openFds()).toBeGreaterThanOrEqual(before + 15)
    // Each socket's own descriptor: its number and the kernel object it names.
    const own = sockets.map((s) => {
      const fd = s[kNative]!.fd()
      return { fd, target: fs.readlinkSync(`/proc/self/fd/${fd}`) }
    })
    expect(own.every((o) => o.target.startsWith('socket:['))).toBe(true)
    for (const s of sockets) s.close()
    // Gone, or the number already reused for something else.
    const still = own.filter(({ fd, target }) => {
      try {
        return fs.readlinkSync(`/proc/self/fd/${fd}`) === target
      } catch {
        return false
      }
    })
    expect(still).toEqual([])
    // Bun opens and closes descriptors of its own at any time, so the process's count says
    // something about us only under Node.
    if (!foreignRuntime) expect(openFds()).toBe(before)
    warm.close()
  })
})
