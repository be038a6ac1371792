// Per-datagram metadata, per-send control and the extra socket options (beyond node:dgram),
// on loopback: what the kernel reports on rinfo, what a python3 peer reads off datagrams we
// send, and the errors each option gives where it cannot work.
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { createSocket, type RemoteInfo, type Socket, type UdpSocket } from '../src/index'
import { once, socketTracker, withTimeout } from './harness'

const track = socketTracker()

async function bound(s: Socket, address: string, port = 0): Promise<number> {
  s.bind(port, address)
  await once(s, 'listening')
  return s.address().port
}

function nextMessage(s: Socket): Promise<[Buffer, RemoteInfo]> {
  return once(s, 'message') as Promise<[Buffer, RemoteInfo]>
}

const metaKeys = ['localAddress', 'interfaceIndex', 'ttl', 'tos', 'ecn', 'timestamp', 'ancillaryTruncated']

describe('recvMetadata', () => {
  it('is off by default: rinfo has exactly node:dgram fields', async () => {
    const server = track(createSocket('udp4'))
    const port = await bound(server, '127.0.0.1')
    const client = track(createSocket('udp4'))
    const got = nextMessage(server)
    client.send('x', port, '127.0.0.1')
    const [, rinfo] = await got
    expect(Object.keys(rinfo).sort()).toEqual(['address', 'family', 'port', 'size'])
  })

  it('udp4 on 0.0.0.0: destination address, interface, TTL, TOS/ECN and a kernel timestamp', async () => {
    const server = track(createSocket({ type: 'udp4', recvMetadata: true }))
    const port = await bound(server, '0.0.0.0')
    const client = track(createSocket('udp4'))
    await bound(client, '127.0.0.1')
    client.setTTL(17)
    client.setTOS((10 << 2) | 2) // DSCP AF11, ECT(0)
    const before = BigInt(Date.now() - 60_000) * 1_000_000n
    for (const dest of ['127.0.0.1', '127.0.0.2']) {
      const got = nextMessage(server)
      client.send(dest, port, dest)
      const [msg, rinfo] = await got
      expect(msg.toString()).toBe(dest)
      expect(rinfo.localAddress).toBe(dest)
      expect(rinfo.interfaceIndex).toBe(1) // lo
      expect(rinfo.ttl).toBe(17)
      expect(rinfo.tos).toBe((10 << 2) | 2)
      expect(rinfo.ecn).toBe(2)
      expect(typeof rinfo.timestamp).toBe('bigint')
      const after = BigInt(Date.now() + 60_000) * 1_000_000n
      expect(rinfo.timestamp! > before && rinfo.timestamp! < after).toBe(true)
      expect(rinfo.ancillaryTruncated).toBeUndefined()
    }
  })

  it('udp6: destination, hop limit and traffic class', async () => {
    const server = track(createSocket({ type: 'udp6', recvMetadata: { pktinfo: true, ttl: true, tos: true } }))
    const port = await bound(server, '::')
    const client = track(createSocket('udp6'))
    await bound(client, '::1')
    client.setTTL(9) // IPV6_UNICAST_HOPS
    client.setTOS(0xb8) // EF
    const got = nextMessage(server)
    client.send('six', port, '::1')
    const [, rinfo] = await got
    expect(rinfo.localAddress).toBe('::1')
    expect(rinfo.interfaceIndex).toBe(1)
    expect(rinfo.ttl).toBe(9)
    expect(rinfo.tos).toBe(0xb8)
    expect(rinfo.ecn).toBe(0)
    expect(rinfo.timestamp).toBeUndefined()
  })

  it('picks fields, and setRecvMetadata(false) turns it all off again', async () => {
    const server = track(createSocket('udp4'))
    const port = await bound(server, '127.0.0.1')
    server.setRecvMetadata({ ttl: true })
    const client = track(createSocket('udp4'))
    let got = nextMessage(server)
    client.send('a', port, '127.0.0.1')
    let [, rinfo] = await got
    expect(rinfo.ttl).toBe(64)
    expect(Object.keys(rinfo).filter((k) => metaKeys.includes(k))).toEqual(['ttl'])
    server.setRecvMetadata(false)
    got = nextMessage(server)
    client.send('b', port, '127.0.0.1')
    ;[, rinfo] = await got
    expect(Object.keys(rinfo).sort()).toEqual(['address', 'family', 'port', 'size'])
  })

  it('rejects bad arguments and what unix_dgram cannot carry', () => {
    const s = track(createSocket('udp4'))
    expect(() => s.setRecvMetadata('yes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    const u = track(createSocket('unix_dgram') as unknown as UdpSocket)
    expect(() => u.setRecvMetadata({ pktinfo: true })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    expect(() => u.setTOS(4)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    expect(() => createSocket({ type: 'unix_dgram', recvMetadata: { ttl: true } })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    // A kernel timestamp works on unix sockets too.
    u.setRecvMetadata({ timestamp: true })
  })
})

describe('setTOS / getTOS', () => {
  it('round-trips and range-checks', () => {
    const s = track(createSocket('udp4'))
    expect(s.getTOS()).toBe(0)
    expect(s.setTOS(0x28)).toBe(0x28)
    expect(s.getTOS()).toBe(0x28)
    expect(() => s.setTOS(256)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => s.setTOS(1.5)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => s.setTOS('1' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    const s6 = track(createSocket('udp6'))
    s6.setTOS(0xb8)
    expect(s6.getTOS()).toBe(0xb8)
    s.close()
    expect(() => s.getTOS()).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' }))
  })
})

describe('sendWith', () => {
  it('chooses the source address and the TOS of one datagram', async () => {
    const server = track(createSocket({ type: 'udp4', recvMetadata: { tos: true, pktinfo: true } }))
    const port = await bound(server, '127.0.0.1')
    const client = track(createSocket('udp4'))
    await bound(client, '0.0.0.0')
    const got = nextMessage(server)
    const sent = new Promise<[Error | null, number]>((resolve) =>
      client.sendWith('vip', { port, address: '127.0.0.1', source: '127.0.0.3', tos: 0xb9 }, (err, n) => resolve([err, n])),
    )
    expect(await withTimeout(sent, 5000, 'send callback')).toEqual([null, 3])
    const [msg, rinfo] = await got
    expect(msg.toString()).toBe('vip')
    expect(rinfo.address).toBe('127.0.0.3')
    expect(rinfo.port).toBe(client.address().port)
    expect(rinfo.tos).toBe(0xb9)
    expect(rinfo.ecn).toBe(1)
    // The socket's own TOS is untouched.
    const next = nextMessage(server)
    client.send('plain', port, '127.0.0.1')
    const [, plain] = await next
    expect(plain.tos).toBe(0)
    expect(plain.address).toBe('127.0.0.1')
  })

  it('binds implicitly, queues before listening, works connected, and reports failures to the callback', async () => {
    const server = track(createSocket('udp6'))
    const port = await bound(server, '::1')
    const client = track(createSocket('udp6'))
    const got = nextMessage(server)
    client.sendWith(['a', 'b'], { port, address: '::1', interfaceIndex: 1 })
    expect((await got)[0].toString()).toBe('ab')

    const connected = track(createSocket('udp6'))
    connected.connect(port, '::1')
    await once(connected, 'connect')
    expect(() => connected.sendWith('x', { port, address: '::1' })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_IS_CONNECTED' }))
    const got2 = nextMessage(server)
    connected.sendWith('c', { tos: 4 })
    expect((await got2)[0].toString()).toBe('c')

    // A source address this host does not have.
    const err = await withTimeout(
      new Promise<Error | null>((resolve) => client.sendWith('x', { port, address: '::1', source: 'fd00:dead::1' }, (e) => resolve(e))),
      5000,
      'send callback',
    )
    expect(err).toMatchObject({ code: 'EINVAL', syscall: 'send', address: '::1', port })
  })

  it('validates its options', () => {
    const s = track(createSocket('udp4'))
    expect(() => s.sendWith('x', null as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE' }))
    expect(() => s.sendWith('x', { port: 0 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_PORT' }))
    expect(() => s.sendWith('x', { port: 9, source: '::1' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => s.sendWith('x', { port: 9, source: 'localhost' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => s.sendWith('x', { port: 9, tos: 300 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    expect(() => s.sendWith('x', { port: 9, interfaceIndex: -1 })).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
    const u = track(createSocket('unix_dgram') as unknown as UdpSocket)
    expect(() => u.sendWith('x', { port: 9 })).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
  })
})

describe('python3 peer reads what we set', () => {
  const peer = `
import socket, struct, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
# Linux values; older Pythons lack the names.
s.setsockopt(socket.IPPROTO_IP, getattr(socket, 'IP_RECVTTL', 12), 1)
s.setsockopt(socket.IPPROTO_IP, getattr(socket, 'IP_RECVTOS', 13), 1)
s.bind(('127.0.0.1', 0))
s.settimeout(10)
print(s.getsockname()[1], flush=True)
for _ in range(3):
    data, anc, flags, addr = s.recvmsg(2048, 256)
    ttl = tos = None
    for level, kind, value in anc:
        if level == socket.IPPROTO_IP and kind == socket.IP_TTL:
            ttl = struct.unpack('i', value[:4])[0]
        if level == socket.IPPROTO_IP and kind == socket.IP_TOS:
            tos = value[0]
    print(data.decode(), ttl, tos, addr[0], flush=True)
`
  it('TTL from setTTL, TOS from setTOS and from sendWith', async () => {
    const py = spawn('python3', ['-c', peer], { stdio: ['ignore', 'pipe', 'pipe'] })
    let out = ''
    let err = ''
    py.stderr.on('data', (d: Buffer) => (err += d))
    const lines = new Promise<string[]>((resolve) => {
      py.stdout.on('data', (d: Buffer) => {
        out += d
        // Only whole lines: a line can arrive in two pieces.
        const whole = out.split('\n').slice(0, -1)
        if (whole.length >= 4) resolve(whole)
      })
      py.on('close', () => resolve(out.trim().split('\n')))
    })
    const firstLine = withTimeout(
      new Promise<number>((resolve) => py.stdout.once('data', (d: Buffer) => resolve(Number(String(d).split('\n')[0])))),
      10_000,
      'python peer',
    ).catch((e: Error) => {
      throw new Error(`${e.message}; python stderr: ${err}`)
    })
    try {
      const port = await firstLine
      const s = track(createSocket('udp4'))
      await bound(s, '0.0.0.0')
      s.setTTL(33)
      s.setTOS(0x88) // DSCP AF41
      await new Promise((r) => s.send('one', port, '127.0.0.1', r))
      await new Promise((r) => s.sendWith('two', { port, address: '127.0.0.1', tos: 0x2e << 2 }, r))
      await new Promise((r) => s.sendWith('three', { port, address: '127.0.0.1', source: '127.0.0.9', tos: 3 }, r))
      const got = await withTimeout(lines, 10_000, `python output (stderr: ${err})`)
      expect(got.slice(1)).toEqual(['one 33 136 127.0.0.1', `two 33 ${0x2e << 2} 127.0.0.1`, 'three 33 3 127.0.0.9'])
    } finally {
      py.kill()
    }
  })
})

describe('forced buffer sizes', () => {
  it('SO_RCVBUFFORCE / SO_SNDBUFFORCE past the sysctl limit as root, EPERM otherwise', async () => {
    const s = track(createSocket('udp4'))
    await bound(s, '127.0.0.1')
    const size = 16 * 1024 * 1024
    if (process.getuid?.() === 0) {
      s.forceRecvBufferSize(size)
      s.forceSendBufferSize(size)
      // The kernel doubles the value for bookkeeping, whatever net.core.rmem_max says.
      expect(s.getRecvBufferSize()).toBe(2 * size)
      expect(s.getSendBufferSize()).toBe(2 * size)
    } else {
      expect(() => s.forceRecvBufferSize(size)).toThrow(expect.objectContaining({ code: 'EPERM', syscall: 'forceRecvBufferSize' }))
    }
    expect(() => s.forceRecvBufferSize(0)).toThrow(expect.objectContaining({ code: 'ERR_OUT_OF_RANGE' }))
  })
})

describe('options without a device or a path', () => {
  it('bindToDevice to a missing interface is ENODEV; setMTUDiscover checks its mode; getPathMTU needs a peer', async () => {
    const s = track(createSocket('udp4'))
    expect(() => s.bindToDevice('dgx-none0')).toThrow(expect.objectContaining({ code: 'ENODEV', syscall: 'bindToDevice' }))
    s.bindToDevice('lo')
    s.bindToDevice('')
    // Not truncated at the NUL into a bind to lo.
    expect(() => s.bindToDevice('lo\0eth0')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => s.setMTUDiscover('sometimes' as never)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    s.setMTUDiscover('do')
    expect(() => s.getPathMTU()).toThrow(expect.objectContaining({ code: 'ENOTCONN', syscall: 'getPathMTU' }))
    s.connect(9, '127.0.0.1')
    await once(s, 'connect')
    // lo's MTU is 65536; the IP layer caps what it reports at 65535.
    expect(s.getPathMTU()).toBe(65535)
    const u = track(createSocket('unix_dgram') as unknown as UdpSocket)
    expect(() => u.setMTUDiscover('do')).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
    expect(() => u.setRecvErrors(true)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_DGRAM_UNSUPPORTED' }))
  })
})
