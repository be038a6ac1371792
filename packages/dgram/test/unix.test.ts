import fs from 'node:fs'
import { BlockList } from 'node:net'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixSocket as Socket, type UnixRemoteInfo } from '../src/index'
import { UDP_ONLY_METHODS, UDP_ONLY_OPTIONS } from '../src/advanced'
import { runScript } from './child'
import { errorShape, once, outcome, tempDir, withTimeout } from './harness'

async function server(p: string): Promise<Socket> {
  const s = createSocket('unix_dgram')
  s.bind(p)
  await once(s, 'listening')
  return s
}

function nextMessage(s: Socket): Promise<[Buffer, UnixRemoteInfo]> {
  return once(s, 'message') as Promise<[Buffer, UnixRemoteInfo]>
}

describe('unix_dgram bind', () => {
  it('bind(path): listening on the next tick, address() is { address: path }, the file exists', async () => {
    const p = path.join(tempDir(), 'a.sock')
    const s = createSocket('unix_dgram')
    const order: string[] = []
    s.on('listening', () => order.push('listening'))
    expect(s.bind(p)).toBe(s)
    process.nextTick(() => order.push('tick'))
    order.push('returned')
    await once(s, 'listening')
    expect(order).toEqual(['returned', 'listening', 'tick'])
    expect(s.address()).toEqual({ address: p })
    expect(fs.statSync(p).isSocket()).toBe(true)
    s.close()
  })

  it('bind({ path }, callback) and bind(Buffer)', async () => {
    const dir = tempDir()
    const a = createSocket('unix_dgram')
    await new Promise<void>((resolve) => a.bind({ path: path.join(dir, 'o.sock') }, resolve))
    expect(a.address()).toEqual({ address: path.join(dir, 'o.sock') })
    const b = createSocket('unix_dgram')
    b.bind(Buffer.from(path.join(dir, 'b.sock')))
    await once(b, 'listening')
    expect(b.address()).toEqual({ address: path.join(dir, 'b.sock') })
    a.close()
    b.close()
  })

  it('bind() with no path autobinds to an abstract name (Linux)', async () => {
    const s = createSocket('unix_dgram')
    s.bind()
    await once(s, 'listening')
    const { address } = s.address() as unknown as { address: string }
    expect(address.startsWith('\0')).toBe(true)
    expect(address.length).toBeGreaterThan(1)
    s.close()
  })

  it('an abstract name binds and round-trips exactly', async () => {
    const name = `\0dgramx-test-${process.pid}-${Date.now()}`
    const s = await server(name)
    expect(s.address()).toEqual({ address: name })
    const c = createSocket('unix_dgram')
    const clientName = `${name}-client`
    c.bind(clientName)
    await once(c, 'listening')
    const got = nextMessage(s)
    c.send('abstract', name)
    const [msg, rinfo] = await got
    expect(msg.toString()).toBe('abstract')
    expect(rinfo).toEqual({ address: clientName, size: 8 })
    c.close()
    s.close()
  })

  it('an existing path is EADDRINUSE on error (the file is not removed)', async () => {
    const p = path.join(tempDir(), 'taken.sock')
    fs.writeFileSync(p, 'not a socket')
    const s = createSocket('unix_dgram')
    s.bind(p)
    const [err] = await once(s, 'error')
    expect(errorShape(err)).toMatchObject({ class: 'Error', code: 'EADDRINUSE', errno: -98, syscall: 'bind', address: p, message: `bind EADDRINUSE ${p}` })
    expect(fs.readFileSync(p, 'utf8')).toBe('not a socket')
    // The socket can bind elsewhere afterwards.
    s.bind(`${p}.2`)
    await once(s, 'listening')
    s.close()
  })

  it('bind twice throws ERR_SOCKET_ALREADY_BOUND; bind after close throws NOT_RUNNING', async () => {
    const p = path.join(tempDir(), 'twice.sock')
    const s = createSocket('unix_dgram')
    s.bind(p)
    expect(outcome(() => s.bind(`${p}2`)).threw).toMatchObject({ code: 'ERR_SOCKET_ALREADY_BOUND' })
    await once(s, 'listening')
    s.close()
    expect(outcome(() => s.bind(`${p}3`)).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' })
  })

  it('bad paths are rejected at the call with clear errors', () => {
    const s = createSocket('unix_dgram')
    expect(outcome(() => s.bind(5 as never)).threw).toMatchObject({
      class: 'TypeError',
      code: 'ERR_INVALID_ARG_TYPE',
      message: 'The "path" argument must be of type string or an instance of Buffer. Received type number (5)',
    })
    expect(outcome(() => s.bind('/tmp/a\0b')).threw).toMatchObject({ class: 'TypeError', code: 'ERR_INVALID_ARG_VALUE' })
    const long = `/tmp/${'x'.repeat(200)}`
    expect(outcome(() => s.bind(long)).threw).toMatchObject({ class: 'RangeError', code: 'ERR_SOCKET_PATH_TOO_LONG' })
    expect(outcome(() => s.send('x', long)).threw).toMatchObject({ code: 'ERR_SOCKET_PATH_TOO_LONG' })
    expect(outcome(() => s.send('x', '')).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect(outcome(() => s.send('x', {} as never)).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    expect(outcome(() => s.send('x', 5 as never)).threw).toMatchObject({ code: 'ERR_BUFFER_OUT_OF_BOUNDS' })
    // The longest path that fits is accepted (107 bytes + NUL on Linux).
    const dir = tempDir()
    const fits = path.join(dir, 'y'.repeat(107 - dir.length - 1))
    expect(Buffer.byteLength(fits)).toBe(107)
    s.bind(fits)
    return once(s, 'listening').then(() => {
      expect(s.address()).toEqual({ address: fits })
      s.close()
    })
  })
})

describe('unix_dgram send', () => {
  it('an unbound sender is unnamed: rinfo is { address: "", size }', async () => {
    const p = path.join(tempDir(), 's.sock')
    const s = await server(p)
    const c = createSocket('unix_dgram')
    const got = nextMessage(s)
    c.send('hi', p)
    const [msg, rinfo] = await got
    expect(msg.toString()).toBe('hi')
    expect(rinfo).toEqual({ address: '', size: 2 })
    expect(Object.keys(rinfo)).toEqual(['address', 'size'])
    c.close()
    s.close()
  })

  it('send forms: (msg, path, cb), (msg, offset, length, path, cb), typed arrays and lists', async () => {
    const p = path.join(tempDir(), 'forms.sock')
    const s = await server(p)
    const received: string[] = []
    s.on('message', (m) => received.push(m.toString()))
    const c = createSocket('unix_dgram')
    const results: unknown[] = []
    const cb = (err: Error | null, n: number): void => {
      results.push(err ? err : n)
    }
    c.send('plain', p, cb)
    c.send(Buffer.from('xxsliceyy'), 2, 5, p, cb)
    c.send('héllo', 1, 3, Buffer.from(p), cb)
    c.send(new Uint8Array([0x61, 0x62]), p, cb)
    c.send(['li', Buffer.from('st')], p, cb)
    c.send([], p, cb)
    c.send('no callback', p)
    await withTimeout(
      (async () => {
        while (received.length < 7) await new Promise((r) => setTimeout(r, 5))
      })(),
      5000,
      'seven datagrams',
    )
    expect(received).toEqual(['plain', 'slice', 'él', 'ab', 'list', '', 'no callback'])
    expect(results).toEqual([5, 5, 3, 2, 4, 0])
    c.close()
    s.close()
  })

  it('the callback runs asynchronously with (null, bytes)', async () => {
    const p = path.join(tempDir(), 'cb.sock')
    const s = await server(p)
    const c = createSocket('unix_dgram')
    let returned = false
    const args = await new Promise<unknown[]>((resolve) => {
      c.send('12345', p, (...a: unknown[]) => resolve([returned, ...a]))
      returned = true
    })
    expect(args).toEqual([true, null, 5])
    c.close()
    s.close()
  })

  it('failures go to the callback: no such path (ENOENT), nobody listening (ECONNREFUSED)', async () => {
    const dir = tempDir()
    const c = createSocket('unix_dgram')
    const [noPath] = await new Promise<unknown[]>((resolve) => c.send('x', path.join(dir, 'none'), (...a: unknown[]) => resolve(a)))
    expect(errorShape(noPath)).toMatchObject({ class: 'Error', code: 'ENOENT', errno: -2, syscall: 'send', address: path.join(dir, 'none'), message: `send ENOENT ${path.join(dir, 'none')}` })
    expect('port' in (noPath as object)).toBe(false)
    // A socket file whose socket is gone (kept at close on purpose).
    const stale = path.join(dir, 'stale.sock')
    const gone = createSocket('unix_dgram')
    gone.bind({ path: stale, unlinkOnClose: false })
    await once(gone, 'listening')
    gone.close()
    await once(gone, 'close')
    const [refused] = await new Promise<unknown[]>((resolve) => c.send('x', stale, (...a: unknown[]) => resolve(a)))
    expect(errorShape(refused)).toMatchObject({ code: 'ECONNREFUSED', syscall: 'send', address: stale })
    c.close()
  })

  it('without a callback a failure is emitted as error', async () => {
    const c = createSocket('unix_dgram')
    const target = path.join(tempDir(), 'missing')
    c.send('x', target)
    const [err] = await once(c, 'error')
    expect(errorShape(err)).toMatchObject({ code: 'ENOENT', syscall: 'send', address: target })
    c.close()
  })

  it('send while binding waits for the bind, so the receiver sees the bound name', async () => {
    const dir = tempDir()
    const s = await server(path.join(dir, 's.sock'))
    const c = createSocket('unix_dgram')
    c.bind(path.join(dir, 'c.sock'))
    const got = nextMessage(s)
    c.send('after bind', path.join(dir, 's.sock'))
    const [, rinfo] = await got
    expect(rinfo.address).toBe(path.join(dir, 'c.sock'))
    c.close()
    s.close()
  })

  it('datagrams keep their boundaries and order; large ones arrive whole', async () => {
    const p = path.join(tempDir(), 'big.sock')
    const s = await server(p)
    s.setRecvBufferSize(1 << 20)
    const c = createSocket('unix_dgram')
    c.bind(`${p}.c`)
    await once(c, 'listening')
    c.setSendBufferSize(1 << 20)
    const sizes = [1, 100, 65536, 150_000, 0, 7]
    const got: number[] = []
    const done = new Promise<void>((resolve) => {
      s.on('message', (m: Buffer, r: UnixRemoteInfo) => {
        expect(r.truncated).toBeUndefined()
        expect(r.size).toBe(m.length)
        got.push(m.length)
        if (got.length === sizes.length) resolve()
      })
    })
    for (const n of sizes) c.send(Buffer.alloc(n, 0x41), p)
    await withTimeout(done, 5000, 'all sizes')
    expect(got).toEqual(sizes)
    c.close()
    s.close()
  })
})

describe('unix_dgram truncation', () => {
  // In a fresh process: the native receive slots grow with the largest receive buffer seen, so
  // earlier tests in this process could make the datagram fit.
  it('a datagram larger than the receiver can take is reported as truncated with its real size', async () => {
    const p = path.join(tempDir(), 'small.sock')
    const script = `
      const p = ${JSON.stringify(p)};
      const s = dgram.createSocket('unix_dgram');
      const got = [];
      s.on('message', (m, r) => {
        got.push([m.length, r]);
        if (got.length === 2) { console.log(JSON.stringify(got)); s.close(); c.close(); }
      });
      const c = dgram.createSocket('unix_dgram');
      s.bind(p, () => {
        s.setRecvBufferSize(2048);
        // unix_dgram options work before bind (no libuv-style lazy descriptor to mimic).
        c.setSendBufferSize(1 << 20);
        c.send(Buffer.alloc(300000, 1), p);
        c.send(Buffer.alloc(10, 2), p);
      });`
    const result = await runScript(script, 'dgramx')
    expect(result.stderr).toBe('')
    const [[firstLength, first], [secondLength, second]] = JSON.parse(result.stdout) as [number, UnixRemoteInfo][]
    expect(first).toEqual({ address: '', size: 300_000, truncated: true })
    expect(firstLength).toBeLessThan(300_000)
    expect(firstLength).toBeGreaterThan(0)
    expect(second).toEqual({ address: '', size: 10 })
    expect(secondLength).toBe(10)
  })
})

describe('unix_dgram connect', () => {
  it('connect(path, cb), then send(msg[, cb]) reaches the peer; remoteAddress() is the path', async () => {
    const dir = tempDir()
    const p = path.join(dir, 'peer.sock')
    const s = await server(p)
    const c = createSocket('unix_dgram')
    const events: string[] = []
    c.on('connect', () => events.push('connect event'))
    c.connect(p, () => events.push('callback'))
    // Connected at once: a send right away goes to the peer.
    c.send('first', (err, n) => events.push(`sent ${err} ${n}`))
    const [msg] = await nextMessage(s)
    expect(msg.toString()).toBe('first')
    await new Promise((r) => setTimeout(r, 10))
    expect(events).toEqual(['connect event', 'callback', 'sent null 5'])
    expect(c.remoteAddress()).toEqual({ address: p })
    c.send(Buffer.from('--second--'), 2, 6)
    expect((await nextMessage(s))[0].toString()).toBe('second')
    expect(outcome(() => c.send('x', p)).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' })
    expect(outcome(() => c.connect(p)).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' })
    c.disconnect()
    expect(outcome(() => c.remoteAddress()).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' })
    c.send('third', p)
    expect((await nextMessage(s))[0].toString()).toBe('third')
    c.close()
    s.close()
  })

  it('connecting to a missing path fails through the callback, or error without one', async () => {
    const missing = path.join(tempDir(), 'nobody')
    const c = createSocket('unix_dgram')
    const [err] = await new Promise<unknown[]>((resolve) => c.connect(missing, (...a: unknown[]) => resolve(a)))
    expect(errorShape(err)).toMatchObject({ code: 'ENOENT', syscall: 'connect', address: missing })
    expect(c.listenerCount('connect')).toBe(0)
    c.connect(missing)
    const [err2] = await once(c, 'error')
    expect(errorShape(err2)).toMatchObject({ code: 'ENOENT', syscall: 'connect' })
    c.close()
  })

  it('a client bound to its own path gets replies to rinfo.address', async () => {
    const dir = tempDir()
    const s = await server(path.join(dir, 'echo.sock'))
    s.on('message', (msg, rinfo: UnixRemoteInfo) => s.send(msg, rinfo.address))
    const c = createSocket('unix_dgram')
    c.bind(path.join(dir, 'client.sock'))
    await once(c, 'listening')
    c.connect(path.join(dir, 'echo.sock'))
    c.send('ping')
    const [msg, rinfo] = (await nextMessage(c)) as [Buffer, UnixRemoteInfo]
    expect(msg.toString()).toBe('ping')
    expect(rinfo).toEqual({ address: path.join(dir, 'echo.sock'), size: 4 })
    c.close()
    s.close()
  })
})

describe('unix_dgram address() and close', () => {
  it('address() before bind is getsockname EBADF, like node:dgram', () => {
    const s = createSocket('unix_dgram')
    expect(outcome(() => s.address()).threw).toMatchObject({ class: 'Error', code: 'EBADF', syscall: 'getsockname', message: 'getsockname EBADF' })
    s.close()
  })

  it('close emits close once and stops delivery', async () => {
    const p = path.join(tempDir(), 'c.sock')
    const s = await server(p)
    let closes = 0
    s.on('close', () => closes++)
    s.on('message', () => {
      throw new Error('no message after close')
    })
    s.close()
    const c = createSocket('unix_dgram')
    const [err] = await new Promise<unknown[]>((resolve) => c.send('late', p, (...a: unknown[]) => resolve(a)))
    // close() removed the socket file it created (unlinkOnClose defaults to true).
    expect((err as NodeJS.ErrnoException).code).toBe('ENOENT')
    await new Promise((r) => setTimeout(r, 20))
    expect(closes).toBe(1)
    expect(outcome(() => s.close()).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' })
    c.close()
  })
})

describe('UDP-only options and methods on a unix_dgram socket: one rule, one error', () => {
  const unsupported = expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' })

  it.each(UDP_ONLY_OPTIONS)('createSocket option %s is refused when set, accepted when undefined or false', (name) => {
    // A value of the option's own type (a BlockList is validated as one first).
    const set = name === 'lookup' ? () => {} : name.endsWith('BlockList') ? new BlockList() : true
    expect(() => createSocket({ type: 'unix_dgram', [name]: set } as never)).toThrow(unsupported)
    // lookup is validated as a function first, as node:dgram does.
    if (name !== 'lookup') createSocket({ type: 'unix_dgram', [name]: false } as never).close()
    createSocket({ type: 'unix_dgram', [name]: undefined } as never).close()
  })

  it.each(UDP_ONLY_METHODS)('%s() throws ERR_SOCKET_DGRAM_UNSUPPORTED, whatever its arguments, unbound and bound', async (name) => {
    const s = createSocket('unix_dgram') as unknown as Record<string, (...a: unknown[]) => unknown> & Socket
    for (const args of [[], ['224.0.0.1', '127.0.0.1'], [64], [true], [{ port: 1 }]]) {
      expect(() => s[name](...args), `${name}(${JSON.stringify(args)})`).toThrow(unsupported)
    }
    s.bind(path.join(tempDir(), 'udp-only.sock'))
    await once(s, 'listening')
    expect(() => s[name]('x')).toThrow(unsupported)
    s.close()
  })

  it('the same methods still work on UDP sockets', () => {
    const u = createSocket('udp4')
    expect(u.setTTL.length).toBe(1)
    u.bind(0, '127.0.0.1')
    return once(u, 'listening').then(() => {
      expect(u.setTTL(9)).toBe(9)
      u.close()
    })
  })
})

describe('a failed bind leaves one consistent state', () => {
  it('bind EADDRINUSE with a connect and a send queued behind it: both report the error, the socket is unbound and disconnected, and works', async () => {
    const dir = tempDir()
    const taken = path.join(dir, 'taken.sock')
    const peerPath = path.join(dir, 'peer.sock')
    const holder = createSocket('unix_dgram')
    holder.bind(taken)
    await once(holder, 'listening')
    const peer = createSocket('unix_dgram')
    peer.bind(peerPath)
    await once(peer, 'listening')

    const s = createSocket('unix_dgram')
    const events: string[] = []
    s.on('error', (e: NodeJS.ErrnoException) => events.push(`error ${e.syscall} ${e.code}`))
    s.bind({ path: taken, unlinkExisting: false })
    const sent = new Promise<Error | null>((resolve) => s.send('queued', peerPath, (e) => resolve(e)))
    const connected = new Promise<Error | undefined>((resolve) => s.connect(peerPath, resolve))
    const [connectErr, sendErr] = await withTimeout(Promise.all([connected, sent]), 5000, 'the queued calls to report')
    expect(events).toEqual(['error bind EADDRINUSE'])
    expect(connectErr).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' })
    expect(sendErr).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind' })
    // One state: unbound and disconnected, and every call behaves accordingly.
    expect(outcome(() => s.remoteAddress()).threw).toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_CONNECTED' })
    const got = once(peer, 'message')
    s.connect(peerPath)
    await once(s, 'connect')
    s.send('after')
    const [msg] = (await got) as [Buffer]
    expect(msg.toString()).toBe('after')
    s.close()
    peer.close()
    holder.close()
  })
})
