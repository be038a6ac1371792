import { describe, expect, it } from 'vitest'
import type { Socket as NodeSocket } from 'node:dgram'
import { createSocket, kNative, type Socket, type SocketOptions } from '../src/index'
import { once, outcome, sameAsNode, withTimeout } from './harness'

type Family = 'udp4' | 'udp6'

async function boundSocket(type: Family = 'udp4', options: Record<string, unknown> = {}): Promise<Socket> {
  const s = createSocket({ type, ...options } as SocketOptions & { type: Family })
  s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1')
  await once(s, 'listening')
  return s
}

/** Runs `call` on an unbound and on a bound socket of each implementation and compares. */
async function sameOnBoth(type: Family, call: (s: NodeSocket) => unknown): Promise<void> {
  await sameAsNode((ctx) => {
    const unbound = ctx.track(ctx.dgram.createSocket(type))
    ctx.rec('unbound', outcome(() => call(unbound)))
    const s = ctx.track(ctx.dgram.createSocket(type))
    s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => {
      ctx.rec('bound', outcome(() => call(s)))
      ctx.done()
    })
  })
}

/** As sameOnBoth, for calls whose outcome on an unbound node socket is a libuv artefact. */
async function sameWhenBound(type: Family, call: (s: NodeSocket) => unknown): Promise<void> {
  await sameAsNode((ctx) => {
    const s = ctx.track(ctx.dgram.createSocket(type))
    s.bind(0, type === 'udp4' ? '127.0.0.1' : '::1', () => {
      ctx.rec('bound', outcome(() => call(s)))
      ctx.done()
    })
  })
}

describe('option setters: validation, return values and errors (differential)', () => {
  const cases: [string, Family, (s: NodeSocket) => unknown][] = [
    ['setBroadcast(true)', 'udp4', (s) => s.setBroadcast(true)],
    ['setBroadcast(0)', 'udp4', (s) => s.setBroadcast(0 as never)],
    ['setTTL(64)', 'udp4', (s) => s.setTTL(64)],
    ['setTTL(1)', 'udp6', (s) => s.setTTL(1)],
    ['setTTL(255)', 'udp4', (s) => s.setTTL(255)],
    ['setTTL(0)', 'udp4', (s) => s.setTTL(0)],
    ['setTTL(256)', 'udp4', (s) => s.setTTL(256)],
    ['setTTL(1.5)', 'udp4', (s) => s.setTTL(1.5)],
    ['setTTL(NaN)', 'udp4', (s) => s.setTTL(NaN)],
    ['setTTL(2 ** 32 + 5)', 'udp4', (s) => s.setTTL(2 ** 32 + 5)],
    ['setTTL("64")', 'udp4', (s) => s.setTTL('64' as never)],
    ['setTTL()', 'udp4', (s) => (s.setTTL as () => unknown)()],
    ['setMulticastTTL(0)', 'udp4', (s) => s.setMulticastTTL(0)],
    ['setMulticastTTL(255)', 'udp6', (s) => s.setMulticastTTL(255)],
    ['setMulticastTTL(-1)', 'udp4', (s) => s.setMulticastTTL(-1)],
    ['setMulticastTTL(256)', 'udp4', (s) => s.setMulticastTTL(256)],
    ['setMulticastTTL(null)', 'udp4', (s) => s.setMulticastTTL(null as never)],
    ['setMulticastLoopback(true)', 'udp4', (s) => s.setMulticastLoopback(true)],
    ['setMulticastLoopback("yes")', 'udp4', (s) => s.setMulticastLoopback('yes' as never)],
    ['setMulticastLoopback(0)', 'udp6', (s) => s.setMulticastLoopback(0 as never)],
    ['setMulticastInterface("127.0.0.1")', 'udp4', (s) => s.setMulticastInterface('127.0.0.1')],
    ['setMulticastInterface("not an ip")', 'udp4', (s) => s.setMulticastInterface('not an ip')],
    ['setMulticastInterface(1)', 'udp4', (s) => s.setMulticastInterface(1 as never)],
    ['setMulticastInterface("::%lo")', 'udp6', (s) => s.setMulticastInterface('::%lo')],
    ['addMembership()', 'udp4', (s) => (s.addMembership as () => unknown)()],
    ['addMembership("")', 'udp4', (s) => s.addMembership('')],
    ['addMembership("not an ip")', 'udp4', (s) => s.addMembership('not an ip')],
    ['addMembership unicast', 'udp4', (s) => s.addMembership('127.0.0.1')],
    ['dropMembership(null)', 'udp4', (s) => s.dropMembership(null as never)],
    ['dropMembership of a group never joined', 'udp4', (s) => s.dropMembership('224.0.0.114', '127.0.0.1')],
    ['addMembership with a bad interface', 'udp4', (s) => s.addMembership('224.0.0.114', 'nope')],
    ['addSourceSpecificMembership(1, ...)', 'udp4', (s) => s.addSourceSpecificMembership(1 as never, '232.1.1.1')],
    ['addSourceSpecificMembership(..., 1)', 'udp4', (s) => s.addSourceSpecificMembership('127.0.0.1', 1 as never)],
    ['dropSourceSpecificMembership never joined', 'udp4', (s) => s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1', '127.0.0.1')],
    // The argument's family picks the option level (libuv's rule), not the socket's: a udp6
    // socket takes IPv4 multicast; IPv6 arguments on a udp4 socket are the kernel's ENOPROTOOPT.
    ['udp6 addMembership of an IPv4 group', 'udp6', (s) => [s.addMembership('224.0.0.251'), s.dropMembership('224.0.0.251')]],
    ['udp6 addSourceSpecificMembership IPv4', 'udp6', (s) => [s.addSourceSpecificMembership('127.0.0.1', '232.1.1.1'), s.dropSourceSpecificMembership('127.0.0.1', '232.1.1.1')]],
    ['udp6 setMulticastInterface("127.0.0.1")', 'udp6', (s) => s.setMulticastInterface('127.0.0.1')],
    ['udp6 dropMembership of an IPv4 group never joined', 'udp6', (s) => s.dropMembership('224.0.0.114')],
    ['udp6 dropMembership of an IPv6 group never joined', 'udp6', (s) => s.dropMembership('ff02::114')],
    ['udp4 setMulticastInterface("::1")', 'udp4', (s) => s.setMulticastInterface('::1')],
    ['mixed families in addSourceSpecificMembership', 'udp6', (s) => s.addSourceSpecificMembership('::1', '232.1.1.1')],
    ['setRecvBufferSize(-1)', 'udp4', (s) => s.setRecvBufferSize(-1)],
    ['setRecvBufferSize(1.5)', 'udp4', (s) => s.setRecvBufferSize(1.5)],
    ['setSendBufferSize("1")', 'udp4', (s) => s.setSendBufferSize('1' as never)],
    ['setSendBufferSize(2 ** 31)', 'udp4', (s) => s.setSendBufferSize(2 ** 31)],
    ['setRecvBufferSize(8192) returns undefined', 'udp4', (s) => s.setRecvBufferSize(8192)],
    ['getSendQueueSize()', 'udp4', (s) => s.getSendQueueSize()],
    ['getSendQueueCount()', 'udp6', (s) => s.getSendQueueCount()],
    ['address()', 'udp4', (s) => Object.keys(s.address())],
  ]
  it.each(cases)('%s', async (_name, type, call) => {
    await sameOnBoth(type, call)
  })
  it('udp4 addSourceSpecificMembership IPv6 (bound; unbound differs, see DIFFERENCES.md)', async () => {
    await sameWhenBound('udp4', (s) => s.addSourceSpecificMembership('::1', 'ff3e::1234'))
  })
  it('udp4 dropMembership of an IPv6 group (bound; unbound differs, see DIFFERENCES.md)', async () => {
    await sameWhenBound('udp4', (s) => s.dropMembership('ff02::114'))
  })
  it('udp4 addMembership of an IPv6 group (bound; unbound differs, see DIFFERENCES.md)', async () => {
    await sameWhenBound('udp4', (s) => s.addMembership('ff02::114'))
  })

  it('ref() and unref() return this on unbound, bound and closed sockets', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      ctx.rec(s.ref() === s, s.unref() === s)
      s.bind(0, '127.0.0.1', () => {
        ctx.rec(s.unref() === s, s.ref() === s)
        s.close(() => {
          ctx.rec(s.ref() === s, s.unref() === s)
          ctx.done()
        })
      })
    })
  })
})

describe('options reach the kernel (read back with getsockopt)', () => {
  it('setBroadcast', async () => {
    const s = await boundSocket()
    expect(s[kNative]!.getBroadcast()).toBe(false)
    s.setBroadcast(true)
    expect(s[kNative]!.getBroadcast()).toBe(true)
    s.setBroadcast(false)
    expect(s[kNative]!.getBroadcast()).toBe(false)
    s.close()
  })

  it.each(['udp4', 'udp6'] as const)('%s setTTL / setMulticastTTL / setMulticastLoopback', async (type) => {
    const s = await boundSocket(type)
    expect(s.setTTL(17)).toBe(17)
    expect(s[kNative]!.getTtl()).toBe(17)
    expect(s.setTTL(255)).toBe(255)
    expect(s[kNative]!.getTtl()).toBe(255)
    // ToInt32 like node: 2 ** 32 + 5 sets 5, and the argument is returned unchanged.
    expect(s.setTTL(2 ** 32 + 5)).toBe(2 ** 32 + 5)
    expect(s[kNative]!.getTtl()).toBe(5)
    expect(s.setMulticastTTL(0)).toBe(0)
    expect(s[kNative]!.getMulticastTtl()).toBe(0)
    expect(s.setMulticastTTL(33)).toBe(33)
    expect(s[kNative]!.getMulticastTtl()).toBe(33)
    expect(s.setMulticastLoopback(false)).toBe(false)
    expect(s[kNative]!.getMulticastLoopback()).toBe(false)
    expect(s.setMulticastLoopback(true)).toBe(true)
    expect(s[kNative]!.getMulticastLoopback()).toBe(true)
    // A rejected value leaves the previous one in place.
    expect(() => s.setTTL(0)).toThrow(expect.objectContaining({ code: 'EINVAL', syscall: 'setTTL', errno: -22 }))
    expect(s[kNative]!.getTtl()).toBe(5)
    s.close()
  })

  it('recvBufferSize / sendBufferSize options apply at bind; getters report what the kernel keeps', async () => {
    const s = await boundSocket('udp4', { recvBufferSize: 65536, sendBufferSize: 32768 })
    // Linux doubles the value for bookkeeping, as node:dgram's getters show too.
    expect(s.getRecvBufferSize()).toBe(s[kNative]!.getRecvBufferSize())
    expect(s.getRecvBufferSize()).toBe(131072)
    expect(s.getSendBufferSize()).toBe(65536)
    s.setRecvBufferSize(40000)
    expect(s.getRecvBufferSize()).toBe(80000)
    s.setSendBufferSize(20000)
    expect(s.getSendBufferSize()).toBe(40000)
    s.close()
  })

  it('buffer sizes match node:dgram for the same requests', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp6', recvBufferSize: 50000, sendBufferSize: 30000 }))
      ctx.rec(outcome(() => s.getRecvBufferSize()))
      s.bind(0, '::1', () => {
        ctx.rec(s.getRecvBufferSize(), s.getSendBufferSize())
        s.setRecvBufferSize(12345)
        ctx.rec(s.getRecvBufferSize())
        ctx.done()
      })
    })
  })
})

describe('multicast on loopback', () => {
  it('joining twice is EADDRINUSE, dropping twice is EADDRNOTAVAIL (differential)', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', reuseAddr: true }))
      s.bind(0, '127.0.0.1', () => {
        ctx.rec('join', outcome(() => s.addMembership('224.0.0.114', '127.0.0.1')))
        ctx.rec('join again', outcome(() => s.addMembership('224.0.0.114', '127.0.0.1')))
        ctx.rec('drop', outcome(() => s.dropMembership('224.0.0.114', '127.0.0.1')))
        ctx.rec('drop again', outcome(() => s.dropMembership('224.0.0.114', '127.0.0.1')))
        ctx.rec('ssm join', outcome(() => s.addSourceSpecificMembership('127.0.0.1', '232.1.2.3', '127.0.0.1')))
        ctx.rec('ssm join again', outcome(() => s.addSourceSpecificMembership('127.0.0.1', '232.1.2.3', '127.0.0.1')))
        ctx.rec('ssm drop', outcome(() => s.dropSourceSpecificMembership('127.0.0.1', '232.1.2.3', '127.0.0.1')))
        ctx.done()
      })
    })
  })

  it('addMembership on an unbound socket binds the OS socket but not node\'s state (differential)', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      s.on('listening', () => ctx.rec('listening'))
      s.on('error', (err) => {
        ctx.rec('error', err)
        ctx.done()
      })
      ctx.rec('join', outcome(() => s.addMembership('224.0.0.114', '127.0.0.1')))
      const a = s.address()
      ctx.rec('address', a.address, a.family, a.port > 0)
      ctx.rec('setTTL now works', outcome(() => s.setTTL(9)))
      // A later bind fails: the descriptor is already bound.
      s.bind(0, '127.0.0.1')
    })
  })

  it('a datagram sent to a joined group on 127.0.0.1 is received (multicast round trip)', async () => {
    const group = '224.0.0.114'
    const receiver = createSocket({ type: 'udp4', reuseAddr: true })
    receiver.bind(0)
    await once(receiver, 'listening')
    receiver.addMembership(group, '127.0.0.1')
    const sender = createSocket('udp4')
    sender.bind(0, '127.0.0.1')
    await once(sender, 'listening')
    sender.setMulticastInterface('127.0.0.1')
    sender.setMulticastLoopback(true)
    sender.setMulticastTTL(1)
    const got = once(receiver, 'message')
    sender.send('to the group', receiver.address().port, group)
    const [msg, rinfo] = (await withTimeout(got, 5000, 'the multicast datagram')) as [Buffer, { address: string; port: number }]
    expect(msg.toString()).toBe('to the group')
    expect(rinfo.address).toBe('127.0.0.1')
    expect(rinfo.port).toBe(sender.address().port)
    receiver.dropMembership(group, '127.0.0.1')
    sender.close()
    receiver.close()
  })
})

describe('send queue', () => {
  it('is empty when sends complete at once (differential)', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      ctx.rec(s.getSendQueueSize(), s.getSendQueueCount())
      s.bind(0, '127.0.0.1', () => {
        s.send('x', s.address().port, '127.0.0.1', () => {
          ctx.rec(s.getSendQueueSize(), s.getSendQueueCount())
          ctx.done()
        })
      })
    })
  })

  it('counts unix datagrams waiting for a full peer, and completes them in order as it drains', async () => {
    const { tempDir } = await import('./harness')
    const path = `${tempDir()}/slow.sock`
    const receiver = createSocket('unix_dgram')
    const received: number[] = []
    receiver.bind(path)
    await once(receiver, 'listening')
    const sender = createSocket('unix_dgram')
    const completed: number[] = []
    const N = 300
    // All sent in one synchronous burst: the peer's queue fills and the rest wait in ours.
    for (let i = 0; i < N; i++) {
      const b = Buffer.alloc(8)
      b.writeUInt32BE(i)
      sender.send(b, path, (err) => {
        expect(err).toBeNull()
        completed.push(i)
      })
    }
    expect(sender.getSendQueueCount()).toBeGreaterThan(0)
    expect(sender.getSendQueueSize()).toBe(sender.getSendQueueCount() * 8)
    receiver.on('message', (msg) => received.push(msg.readUInt32BE(0)))
    await withTimeout(
      (async () => {
        while (received.length < N) await new Promise((r) => setTimeout(r, 5))
      })(),
      10_000,
      'every datagram',
    )
    expect(received).toEqual(Array.from({ length: N }, (_, i) => i))
    await new Promise((r) => setTimeout(r, 20))
    expect(completed).toEqual(Array.from({ length: N }, (_, i) => i))
    expect(sender.getSendQueueCount()).toBe(0)
    sender.close()
    receiver.close()
  })
})
