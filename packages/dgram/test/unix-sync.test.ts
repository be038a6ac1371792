// unixSync: the synchronous unix_dgram bind/connect/send that @dgramx/unix-dgram is built on
// (unix-dgram's API acts inside each call). They emit nothing; the socket's node:dgram-style
// methods and events are unaffected.
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSocket, unixSync, type UnixSocket } from '../src/index'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-usync-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))
let n = 0
const sockPath = (): string => path.join(tmp, `s${n++}.sock`)

async function until(check: () => boolean, what: string, ms = 10_000): Promise<void> {
  const end = Date.now() + ms
  while (!check()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`)
    await new Promise((r) => setTimeout(r, 5))
  }
}

function eventsOf(s: UnixSocket): string[] {
  const log: string[] = []
  for (const e of ['listening', 'connect', 'error', 'close']) s.on(e, () => log.push(e))
  return log
}

describe('unixSync', () => {
  it('bind + connect + send in one tick: bound, connected and sent when each call returns, with no events', async () => {
    const where = sockPath()
    const server = createSocket('unix_dgram')
    const got: string[] = []
    server.on('message', (m) => got.push(String(m)))
    const serverEvents = eventsOf(server)
    unixSync.bind(server, where)
    expect(server.address()).toEqual({ address: where })
    const client = createSocket('unix_dgram')
    const clientEvents = eventsOf(client)
    unixSync.connect(client, where)
    expect(client.remoteAddress()).toEqual({ address: where })
    expect(unixSync.send(client, Buffer.from('one'), null, () => {})).toBe(true)
    expect(unixSync.send(client, Buffer.from('two'), where, () => {})).toBe(true)
    await until(() => got.length === 2, 'two datagrams')
    expect(got).toEqual(['one', 'two'])
    await new Promise((r) => setImmediate(r))
    expect(serverEvents).toEqual([])
    expect(clientEvents).toEqual([])
    client.close()
    server.close()
  })

  it('failures are thrown as Node-style errors; the socket stays usable', () => {
    const s = createSocket('unix_dgram')
    const missing = path.join(tmp, 'nobody.sock')
    expect(() => unixSync.connect(s, missing)).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'connect', errno: -os.constants.errno.ENOENT }))
    expect(() => unixSync.send(s, Buffer.from('x'), missing, () => {})).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'send' }))
    expect(() => unixSync.bind(s, path.join(tmp, 'no-dir', 'x.sock'))).toThrow(expect.objectContaining({ code: 'ENOENT', syscall: 'bind' }))
    // The failed bind left it unbound: a bind can still succeed, and then a second one is refused.
    unixSync.bind(s, sockPath())
    expect(() => unixSync.bind(s, sockPath())).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_ALREADY_BOUND' }))
    s.close()
    expect(() => unixSync.bind(s, sockPath())).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })

  it('bind options: unlinkExisting: false leaves an existing socket file (EADDRINUSE); unlinkOnClose: false keeps it after close', () => {
    const where = sockPath()
    const a = createSocket('unix_dgram')
    unixSync.bind(a, where, { unlinkOnClose: false })
    a.close()
    expect(fs.statSync(where).isSocket()).toBe(true)
    const b = createSocket('unix_dgram')
    expect(() => unixSync.bind(b, where, { unlinkExisting: false })).toThrow(expect.objectContaining({ code: 'EADDRINUSE' }))
    // The facade's default replaces a stale socket file.
    unixSync.bind(b, where)
    b.close()
  })

  it('a send behind a full peer returns false and its outcome arrives later; 0 waiting afterwards', async () => {
    const where = sockPath()
    const server = createSocket('unix_dgram')
    const got: string[] = []
    server.on('message', (m) => got.push(String(m)))
    unixSync.bind(server, where)
    const client = createSocket('unix_dgram')
    unixSync.connect(client, where)
    const results: boolean[] = []
    const outcomes: (Error | null)[] = []
    // The peer reads on this thread, so its queue (net.unix.max_dgram_qlen) fills during the loop.
    for (let i = 0; i < 1000 && results.every(Boolean); i++) results.push(unixSync.send(client, Buffer.from(`m${i}`), null, (e) => outcomes.push(e)))
    expect(results.at(-1)).toBe(false)
    expect(client.getSendQueueCount()).toBe(1)
    await until(() => outcomes.length === 1, 'the queued outcome')
    expect(outcomes).toEqual([null])
    expect(client.getSendQueueCount()).toBe(0)
    await until(() => got.length === results.length, 'every datagram')
    expect(got).toEqual(results.map((_, i) => `m${i}`))
    client.close()
    server.close()
  })

  it('refuses UDP sockets', () => {
    const u = createSocket('udp4')
    expect(() => unixSync.bind(u as never, sockPath())).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    u.close()
  })
})
