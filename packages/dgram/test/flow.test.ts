// pause() / resume(): a paused socket stops reading from the kernel, so node's own
// `events.on(socket, 'message', { highWaterMark })` gets real backpressure.

import { on, once } from 'node:events'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, promises } from '../src/index'
import { tempDir, withTimeout } from './harness'
import { timeScale } from './time-scale'

const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, ms))

describe('pause() and resume()', () => {
  it('a paused UDP socket delivers nothing until resume(); then everything the kernel kept', async () => {
    const r = createSocket('udp4')
    await promises.bind(r, 0, '127.0.0.1')
    expect(r.pause()).toBe(r)
    expect(r.isPaused()).toBe(true)
    const seen: string[] = []
    r.on('message', (m) => seen.push(String(m)))
    const s = createSocket('udp4')
    for (let i = 0; i < 10; i++) await promises.send(s, String(i), r.address().port, '127.0.0.1')
    await sleep(100 * timeScale)
    expect(seen).toEqual([])
    expect(r.resume()).toBe(r)
    expect(r.isPaused()).toBe(false)
    for (let i = 0; i < 500 && seen.length < 10; i++) await sleep(5)
    expect(seen).toEqual(['0', '1', '2', '3', '4', '5', '6', '7', '8', '9'])
    s.close()
    r.close()
  })

  it('a pause before bind holds through the bind; pausing twice or resuming a running socket changes nothing', async () => {
    const r = createSocket('udp6')
    r.pause().pause()
    await promises.bind(r, 0, '::1')
    const s = createSocket('udp6')
    const got = once(r, 'message')
    await promises.send(s, 'held', r.address().port, '::1')
    await sleep(50 * timeScale)
    expect(r.listenerCount('message')).toBe(1)
    let arrived = false
    void got.then(() => (arrived = true))
    await sleep(10)
    expect(arrived).toBe(false)
    r.resume().resume()
    expect(String((await withTimeout(got, 5000, 'message'))[0])).toBe('held')
    s.close()
    r.close()
  })

  it('on a closed socket pause() and resume() do nothing and do not throw', async () => {
    const r = createSocket('udp4')
    r.bind(0, '127.0.0.1')
    await once(r, 'listening')
    r.close()
    expect(r.pause()).toBe(r)
    expect(r.resume()).toBe(r)
    await once(r, 'close')
    expect(r.pause().resume()).toBe(r)
  })

  // events.on pauses the emitter at highWaterMark from Node 20.13 on; 20.11 (armv7's newest on
  // npm) never calls pause(), so there is nothing of ours to observe.
  const [major, minor] = process.versions.node.split('.').map(Number)
  const onPauses = major > 20 || (major === 20 && minor >= 13)
  it.runIf(onPauses)("events.on(socket, 'message', { close, highWaterMark }): reading stops, the unix_dgram sender waits in its queue, nothing is lost", async () => {
    const where = path.join(tempDir(), 'flow.sock')
    const r = createSocket('unix_dgram')
    await promises.bind(r, where)
    const highWaterMark = 8
    const events = on(r, 'message', { close: ['close'], highWaterMark } as Parameters<typeof on>[2])
    const s = createSocket('unix_dgram')
    s.connect(where)
    await once(s, 'connect')
    const N = 3000
    for (let i = 0; i < N; i++) s.send(String(i))
    // Nobody consumes yet: events.on pauses the socket, the kernel's queue fills and the sender's own queue grows.
    for (let i = 0; i < 1000 * timeScale && !(r.isPaused() && s.getSendQueueCount() > 0); i++) await sleep(5)
    expect(r.isPaused()).toBe(true)
    expect(s.getSendQueueCount()).toBeGreaterThan(0)
    const seen: number[] = []
    for await (const [msg] of events) {
      seen.push(Number(String(msg)))
      if (seen.length === N) break
    }
    expect(seen).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(r.isPaused()).toBe(false)
    expect(s.getSendQueueCount()).toBe(0)
    s.close()
    r.close()
  }, 60_000 * timeScale)

  it('promises.messages pauses through pause() as well, so isPaused() tells', async () => {
    const where = path.join(tempDir(), 'flow2.sock')
    const r = createSocket('unix_dgram')
    await promises.bind(r, where)
    const s = createSocket('unix_dgram')
    const iterator = promises.messages(r, { highWaterMark: 4 })
    for (let i = 0; i < 64; i++) s.send(String(i), where)
    for (let i = 0; i < 1000 * timeScale && !r.isPaused(); i++) await sleep(5)
    expect(r.isPaused()).toBe(true)
    const seen: number[] = []
    for await (const { msg } of iterator) {
      seen.push(Number(String(msg)))
      if (seen.length === 64) break
    }
    expect(seen).toEqual(Array.from({ length: 64 }, (_, i) => i))
    expect(r.isPaused()).toBe(false)
    s.close()
    r.close()
  })
})
