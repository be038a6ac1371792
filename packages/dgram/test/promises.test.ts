// The promise and async-iteration forms (promises.send / bind / messages, and
// `for await ... of socket`), over the callback API that stays as it is.

import { EventEmitter, on, once as onceEvent } from 'node:events'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterAll, describe, expect, it } from 'vitest'
import { createSocket, kNative, promises } from '../src/index'
import type { Datagram } from '../src/index'
import type { UnixRemoteInfo } from '../src/types'
import { outcome } from './harness'

const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-promises-'))
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }))

describe('promises.send and promises.bind', () => {
  it('send resolves with the bytes handed to the OS; bind resolves on listening', async () => {
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    const s = createSocket('udp4')
    const got = onceEvent(r, 'message')
    await expect(promises.send(s, 'hello', r.address().port, '127.0.0.1')).resolves.toBe(5)
    const [msg] = await got
    expect(String(msg)).toBe('hello')
    s.close()
    r.close()
  })

  it('send rejects with the send error; bind rejects with the bind error', async () => {
    const s = createSocket('unix_dgram')
    await expect(promises.send(s, Buffer.from('x'), path.join(tmp, 'nobody.sock'))).rejects.toMatchObject({ code: 'ENOENT', syscall: 'send' })
    const a = createSocket('udp4')
    await promises.bind(a, 0, '127.0.0.1')
    const b = createSocket('udp4')
    await expect(promises.bind(b, a.address().port, '127.0.0.1')).rejects.toMatchObject({ code: 'EADDRINUSE' })
    s.close()
    a.close()
    b.close()
  })

  it('events.once(socket, "listening") works as usual', async () => {
    const s = createSocket('udp6')
    s.bind(0, '::1')
    await expect(onceEvent(s, 'listening')).resolves.toEqual([])
    s.close()
  })
})

describe('promises.messages', () => {
  it('yields every datagram in order and ends when the socket closes', async () => {
    const where = path.join(tmp, 'iter.sock')
    const r = createSocket('unix_dgram')
    await promises.bind(r, where)
    const s = createSocket('unix_dgram')
    for (let i = 0; i < 100; i++) s.send(Buffer.from(String(i)), where)
    const seen: string[] = []
    for await (const { msg, rinfo } of promises.messages<UnixRemoteInfo>(r)) {
      seen.push(String(msg))
      expect(rinfo).toMatchObject({ address: '', size: msg.length })
      if (seen.length === 100) r.close()
    }
    expect(seen).toEqual(Array.from({ length: 100 }, (_, i) => String(i)))
    s.close()
  })

  it('applies backpressure: past highWaterMark it stops reading, resumes as the consumer catches up, loses nothing', async () => {
    const where = path.join(tmp, 'bp.sock')
    const r = createSocket('unix_dgram')
    await promises.bind(r, where)
    const native = r[kNative]!
    let stops = 0
    let starts = 0
    const { recvStop, recvStart } = native
    native.recvStop = () => (stops++, recvStop.call(native))
    native.recvStart = () => (starts++, recvStart.call(native))
    const s = createSocket('unix_dgram')
    const N = 5000
    for (let i = 0; i < N; i++) s.send(Buffer.from(String(i)), where)
    const seen: number[] = []
    const iterator = promises.messages(r, { highWaterMark: 16 })
    for await (const { msg } of iterator) {
      seen.push(Number(String(msg)))
      // A slow consumer: every datagram costs a turn of the event loop.
      await new Promise((res) => setImmediate(res))
      if (seen.length === N) break
    }
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(stops).toBeGreaterThan(0)
    expect(starts).toBeGreaterThan(0)
    s.close()
    r.close()
  })

  it('an abort signal ends the iteration with an AbortError; the socket stays open', async () => {
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    const controller = new AbortController()
    const iteration = (async () => {
      const seen: Datagram[] = []
      for await (const d of promises.messages(r, { signal: controller.signal })) seen.push(d)
      return seen
    })()
    setImmediate(() => controller.abort())
    await expect(iteration).rejects.toMatchObject({ name: 'AbortError' })
    expect(r.address().port).toBeGreaterThan(0)
    r.close()
  })

  it("an abort rejects with events.on's error shape: AbortError, code ABORT_ERR, the reason as cause", async () => {
    const shape = (e: unknown): Record<string, unknown> => {
      const err = e as Error & { code?: unknown }
      // A reasonless abort's cause is a fresh DOMException per controller; Bun gives each its
      // own line and column as keys, so causes are compared by what they say (identity below).
      const cause = err.cause instanceof Error ? { name: err.cause.name, message: err.cause.message } : err.cause
      return { isError: err instanceof Error, name: err.name, code: err.code, message: err.message, cause, stackTop: String(err.stack).split('\n')[0] }
    }
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    for (const reason of ['why', undefined, new Error('timeout')]) {
      const ours = new AbortController()
      const theirs = new AbortController()
      const mine = promises.messages(r, { signal: ours.signal }).next()
      const node = on(r, 'message', { signal: theirs.signal }).next()
      ours.abort(reason)
      theirs.abort(reason)
      const [a, b] = await Promise.all([mine.then(() => null, (e) => e), node.then(() => null, (e) => e)])
      expect(shape(a)).toEqual(shape(b))
      // A reasonless abort has AbortSignal's own DOMException as its reason.
      expect((a as Error).cause).toBe(ours.signal.reason)
    }
    // Aborted before the call: the first step rejects the same way.
    const aborted = AbortSignal.abort('early')
    await expect(promises.messages(r, { signal: aborted }).next()).rejects.toMatchObject({ name: 'AbortError', code: 'ABORT_ERR', cause: 'early' })
    expect(() => promises.messages(r, { signal: 'nope' as unknown as AbortSignal })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    r.close()
  })

  it('a socket error ends the iteration by rejecting with it', async () => {
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    const iteration = (async () => {
      for await (const _ of promises.messages(r)) void _
    })()
    const err = Object.assign(new Error('boom'), { code: 'EBOOM' })
    r.emit('error', err)
    await expect(iteration).rejects.toBe(err)
    r.close()
  })

  it.runIf(process.platform === 'linux')('breaking out of the loop closes the descriptors of datagrams still buffered', async () => {
    const openFds = (): number => fs.readdirSync('/proc/self/fd').length
    const name = path.join(tmp, 'fds.sock')
    const r = createSocket({ type: 'unix_dgram', receiveFds: true })
    await promises.bind(r, name)
    const file = path.join(tmp, 'payload')
    fs.writeFileSync(file, 'x')
    const fd = fs.openSync(file, 'r')
    const c = createSocket('unix_dgram')
    const before = openFds()
    const iterator = promises.messages(r)
    for (let i = 0; i < 8; i++) c.sendWithFds(`m${i}`, [fd], name)
    const first = await iterator.next()
    expect(first.value!.msg.toString()).toBe('m0')
    for (const f of (first.value!.rinfo as UnixRemoteInfo).fds!) fs.closeSync(f)
    // The other seven arrive and wait in the iterator's buffer, each with its descriptor (each
    // is its own callback from the event loop, after this continuation has run).
    for (let i = 0; i < 200 && openFds() < before + 7; i++) await new Promise((resolve) => setTimeout(resolve, 5))
    await new Promise((resolve) => setTimeout(resolve, 50))
    expect(openFds()).toBe(before + 7)
    await iterator.return!()
    expect(openFds()).toBe(before)
    fs.closeSync(fd)
    c.close()
    r.close()
  })

  it('`for await ... of socket` works from JavaScript', async () => {
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    const s = createSocket('udp4')
    s.send('one', r.address().port, '127.0.0.1')
    for await (const { msg, rinfo } of r as unknown as AsyncIterable<Datagram>) {
      expect(String(msg)).toBe('one')
      expect(rinfo).toMatchObject({ family: 'IPv4', size: 3 })
      break
    }
    // Breaking out detaches the iterator: the socket is still usable.
    const got = onceEvent(r, 'message')
    s.send('two', r.address().port, '127.0.0.1')
    expect(String((await got)[0])).toBe('two')
    s.close()
    r.close()
  })
})

describe('promises.messages options', () => {
  it('highWaterMark is validated as events.on validates it (same codes and messages)', () => {
    const s = createSocket('udp4')
    for (const value of [NaN, 0, -1, 1.5, '3', Infinity]) {
      const expected = outcome(() => on(new EventEmitter(), 'message', { highWaterMark: value as number })).threw as Record<string, unknown> | undefined
      const actual = outcome(() => promises.messages(s, { highWaterMark: value as number })).threw as Record<string, unknown>
      expect(actual, String(value)).toBeDefined()
      // Older Node (armv7's newest on npm, 20.11) did not validate it in events.on yet:
      // there we still refuse it, with the codes later versions use.
      if (expected === undefined) expect(actual.code, String(value)).toMatch(/^ERR_(OUT_OF_RANGE|INVALID_ARG_TYPE)$/)
      else expect({ code: actual.code, message: actual.message }, String(value)).toEqual({ code: expected.code, message: expected.message })
    }
    s.close()
  })
})
