// The batch receive API (beyond node:dgram): a 'messages' listener gets whole receive batches
// (MessageBatch). Checked differentially against 'message': a receiver of each kind gets the
// same datagrams from the same senders, and must see the same bytes, sizes, senders and rinfo.
import fs from 'node:fs'
import path from 'node:path'
import { BlockList } from 'node:net'
import { describe, expect, it } from 'vitest'
import { MessageBatch, createSocket, type BatchSocket, type RemoteInfo, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { once, socketTracker, tempDir, until } from './harness'

const track = socketTracker()
const host = (type: 'udp4' | 'udp6'): string => (type === 'udp4' ? '127.0.0.1' : '::1')

type Got = [Buffer, RemoteInfo | UnixRemoteInfo][]

async function bound(type: 'udp4' | 'udp6', options: Record<string, unknown> = {}): Promise<BatchSocket> {
  const s = track(createSocket({ type, ...options }))
  s.bind(0, host(type))
  await once(s, 'listening')
  return s
}

/** Every datagram of every batch, as 'message' would have handed it over; and the batches. */
function collectBatches(s: { on(e: 'messages', l: (b: MessageBatch) => void): unknown }): { got: Got; batches: MessageBatch[] } {
  const got: Got = []
  const batches: MessageBatch[] = []
  s.on('messages', (b) => {
    expect(b).toBeInstanceOf(MessageBatch)
    batches.push(b)
    for (let i = 0; i < b.count; i++) got.push([Buffer.from(b.message(i)), b.rinfo(i)])
  })
  return { got, batches }
}

function collectMessages(s: { on(e: 'message', l: (m: Buffer, r: never) => void): unknown }): Got {
  const got: Got = []
  s.on('message', (m: Buffer, r: RemoteInfo) => got.push([Buffer.from(m), r]))
  return got
}

function sendAll(tx: BatchSocket, msgs: Buffer[], port: number, address: string): Promise<void> {
  return new Promise((res, rej) => tx.sendMany(msgs, port, address, (err) => (err ? rej(err) : res())))
}

/** Datagram i: sizes cycle through small, empty and large ones; bytes identify the datagram. */
function datagrams(n: number, seed: number): Buffer[] {
  const sizes = [1, 64, 0, 1400, 7, 512]
  return Array.from({ length: n }, (_, i) => Buffer.alloc(sizes[i % sizes.length], (i + seed) & 0xff))
}

describe.each(['udp4', 'udp6'] as const)('%s: messages vs message', (type) => {
  it('the same datagrams, sizes and senders as message events, from two senders', async () => {
    const plain = await bound(type)
    const batched = await bound(type)
    const expected = collectMessages(plain as never)
    const { got, batches } = collectBatches(batched)
    const a = await bound(type)
    const b = await bound(type)
    // Rounds small enough for the default receive buffer (no drops), large enough to batch.
    let total = 0
    for (const [tx, seed] of [[a, 1], [b, 2], [a, 3], [b, 4], [a, 5], [b, 6]] as const) {
      const msgs = datagrams(60, seed)
      await sendAll(tx, msgs, plain.address().port, host(type))
      await sendAll(tx, msgs, batched.address().port, host(type))
      total += msgs.length
      await until(() => expected.length === total && got.length === total, 'every datagram arrives at both')
    }
    expect(got).toEqual(expected)
    // Batches really are batches: fewer events than datagrams, and the columns agree with rinfo.
    expect(batches.length).toBeLessThan(360)
    for (const batch of batches) {
      expect(batch.family).toBe(type === 'udp4' ? 'IPv4' : 'IPv6')
      expect([batch.offsets.length, batch.lengths.length, batch.ports.length, batch.truncatedSizes.length, batch.addresses.length]).toEqual(Array(5).fill(batch.count))
      for (let i = 0; i < batch.count; i++) {
        expect(batch.ports[i]).toBe((batch.rinfo(i) as RemoteInfo).port)
        expect(batch.addresses[i]).toBe(host(type))
        expect(batch.offsets[i] + batch.lengths[i]).toBeLessThanOrEqual(batch.data.length)
      }
    }
    expect(new Set(got.map(([, r]) => (r as RemoteInfo).port))).toEqual(new Set([a.address().port, b.address().port]))
  })

  it('gro: coalesced receives are split into the datagrams as sent', async () => {
    const rx = await bound(type, { gro: true })
    const { got } = collectBatches(rx)
    const tx = await bound(type, { gso: true })
    const sizes = [...Array(40).fill(1000), 300, ...Array(20).fill(64)]
    const sent = sizes.map((n, i) => Buffer.alloc(n, i))
    await sendAll(tx, sent, rx.address().port, host(type))
    await until(() => got.length >= sent.length, 'every datagram arrives')
    expect(got.map(([m]) => m.length)).toEqual(sizes)
    expect(got.every(([m], i) => m.equals(sent[i]))).toBe(true)
    expect(got.every(([, r]) => r.size === (r as RemoteInfo).size && (r as RemoteInfo).port === tx.address().port)).toBe(true)
  })

  it('metadata: rinfo(i) carries what the message event would', async () => {
    const plain = await bound(type, { recvMetadata: true })
    const batched = await bound(type, { recvMetadata: true })
    const expected = collectMessages(plain as never)
    const { got } = collectBatches(batched)
    const tx = await bound(type)
    tx.setTTL(23)
    const msgs = datagrams(5, 9)
    await sendAll(tx, msgs, plain.address().port, host(type))
    await sendAll(tx, msgs, batched.address().port, host(type))
    await until(() => expected.length === 5 && got.length === 5, 'every datagram arrives at both')
    // Timestamps differ between two receptions; everything else must match exactly.
    const strip = ([m, r]: Got[number]): unknown => {
      const { timestamp, ...rest } = r as RemoteInfo
      expect(typeof timestamp).toBe('bigint')
      return [m, rest]
    }
    expect(got.map(strip)).toEqual(expected.map(strip))
    expect((got[0][1] as RemoteInfo).ttl).toBe(23)
    expect((got[0][1] as RemoteInfo).localAddress).toBe(host(type))
  })
})

describe('messages on udp4', () => {
  it('opting in switches delivery, opting out switches it back, and no datagram is lost or doubled', async () => {
    const rx = await bound('udp4')
    const tx = await bound('udp4')
    const plain = collectMessages(rx as never)
    const port = rx.address().port
    const send = async (from: number, to: number): Promise<void> => {
      const msgs = Array.from({ length: to - from }, (_, i) => Buffer.from(String(from + i)))
      await sendAll(tx, msgs, port, '127.0.0.1')
    }
    await send(0, 50)
    await until(() => plain.length === 50, 'the first 50 as message events')
    const listener = (b: MessageBatch): void => {
      for (let i = 0; i < b.count; i++) batched.push(b.message(i).toString())
    }
    const batched: string[] = []
    rx.on('messages', listener)
    await send(50, 150)
    await until(() => batched.length === 100, 'the next 100 as batches')
    expect(plain.length).toBe(50)
    rx.off('messages', listener)
    await send(150, 200)
    await until(() => plain.length === 100, 'the last 50 as message events again')
    const all = [...plain.slice(0, 50).map(([m]) => m.toString()), ...batched, ...plain.slice(50).map(([m]) => m.toString())]
    expect(all).toEqual(Array.from({ length: 200 }, (_, i) => String(i)))
  })

  it('a batch is its own memory: later batches never overwrite an earlier one', async () => {
    const rx = await bound('udp4')
    const tx = await bound('udp4')
    const { batches } = collectBatches(rx)
    await sendAll(tx, [Buffer.alloc(100, 1)], rx.address().port, '127.0.0.1')
    await until(() => batches.length === 1, 'the first batch')
    const first = batches[0].message(0)
    await sendAll(tx, Array.from({ length: 40 }, () => Buffer.alloc(100, 2)), rx.address().port, '127.0.0.1')
    await until(() => batches.reduce((n, b) => n + b.count, 0) === 41, 'the rest')
    expect(first.equals(Buffer.alloc(100, 1))).toBe(true)
    expect(batches[1].data.buffer).not.toBe(batches[0].data.buffer)
  })

  it('the receive block list drops blocked senders from batches too', async () => {
    const blockList = new BlockList()
    blockList.addAddress('127.0.0.2')
    const rx = await bound('udp4', { receiveBlockList: blockList })
    const { got } = collectBatches(rx)
    const blocked = track(createSocket('udp4'))
    blocked.bind(0, '127.0.0.2')
    await once(blocked, 'listening')
    const ok = await bound('udp4')
    await sendAll(blocked as BatchSocket, [Buffer.from('no')], rx.address().port, '127.0.0.1')
    await sendAll(ok, [Buffer.from('yes'), Buffer.from('yes2')], rx.address().port, '127.0.0.1')
    await sendAll(blocked as BatchSocket, [Buffer.from('no2')], rx.address().port, '127.0.0.1')
    await sendAll(ok, [Buffer.from('yes3')], rx.address().port, '127.0.0.1')
    await until(() => got.length === 3, 'the allowed datagrams')
    await new Promise((r) => setTimeout(r, 50))
    expect(got.map(([m]) => m.toString())).toEqual(['yes', 'yes2', 'yes3'])
  })
})

describe('messages on unix_dgram', () => {
  async function unixServer(options: Record<string, unknown> = {}): Promise<{ s: UnixSocket; p: string }> {
    const p = path.join(tempDir(), 's.sock')
    const s = track(createSocket({ type: 'unix_dgram', ...options }))
    s.bind(p)
    await once(s, 'listening')
    return { s, p }
  }

  it('the same datagrams and senders as message events (named and unnamed senders)', async () => {
    const plain = await unixServer()
    const batched = await unixServer()
    const expected = collectMessages(plain.s as never)
    const { got } = collectBatches(batched.s)
    const named = await unixServer()
    const unnamed = track(createSocket('unix_dgram'))
    for (const tx of [named.s, unnamed, named.s]) {
      for (const dest of [plain.p, batched.p]) {
        await new Promise((res) => tx.sendMany(datagrams(30, 4), dest, res))
      }
    }
    await until(() => expected.length === 90 && got.length === 90, 'every datagram arrives at both')
    expect(got).toEqual(expected)
    expect(new Set(got.map(([, r]) => r.address))).toEqual(new Set([named.p, '']))
  })

  it('credentials and descriptors arrive through rinfo(i)', async () => {
    const { s, p } = await unixServer({ passCredentials: true, receiveFds: true })
    const { got } = collectBatches(s)
    const tx = track(createSocket('unix_dgram'))
    const fd = fs.openSync(__filename, 'r')
    try {
      await new Promise((res) => tx.sendWithFds('fd', [fd], p, res))
    } finally {
      fs.closeSync(fd)
    }
    await until(() => got.length === 1, 'the datagram')
    const rinfo = got[0][1] as UnixRemoteInfo
    expect(got[0][0].toString()).toBe('fd')
    expect(rinfo.pid).toBe(process.pid)
    expect(rinfo.fds).toHaveLength(1)
    expect(fs.fstatSync(rinfo.fds![0]).isFile()).toBe(true)
    fs.closeSync(rinfo.fds![0])
  })
})
