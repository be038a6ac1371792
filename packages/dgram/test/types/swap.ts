// Type-check fixture: code typed against @types/node's dgram keeps type-checking when the
// import is swapped for @dgramx/dgram, and values flow both ways where the APIs overlap.
// Checked by test/types.test.ts with `tsc --noEmit`; never executed.
import * as nodeDgram from 'node:dgram'
import * as dgramx from '@dgramx/dgram'

// Sockets are assignable in both directions.
export const a: nodeDgram.Socket = dgramx.createSocket('udp4')
export const b: dgramx.Socket = nodeDgram.createSocket('udp6')

// Shared shapes.
export const r1: nodeDgram.RemoteInfo = {} as dgramx.RemoteInfo
export const r2: dgramx.RemoteInfo = {} as nodeDgram.RemoteInfo
export const o1: dgramx.SocketOptions = {} as nodeDgram.SocketOptions
export const o2: nodeDgram.SocketOptions = {} as dgramx.SocketOptions & { type: dgramx.UdpSocketType }
export const bo1: nodeDgram.BindOptions = {} as dgramx.BindOptions
export const bo2: dgramx.BindOptions = {} as nodeDgram.BindOptions
export const t: dgramx.SocketType = {} as nodeDgram.SocketType

// The module itself stands in for node:dgram where it is passed around.
export const createSocket: typeof nodeDgram.createSocket = dgramx.createSocket

// Typical node:dgram code, unchanged but for the import.
export function server(port: number): dgramx.Socket {
  const s = dgramx.createSocket({ type: 'udp4', reuseAddr: true, recvBufferSize: 1 << 16 })
  s.on('message', (msg, rinfo) => {
    const text: string = msg.toString()
    const from: string = `${rinfo.address}:${rinfo.port} (${rinfo.family}, ${rinfo.size})`
    s.send(text, rinfo.port, rinfo.address, (err, bytes) => {
      if (err) console.error(err.message, from)
      else console.log(bytes)
    })
  })
  s.on('listening', () => {
    const addr = s.address()
    console.log(addr.address, addr.port, addr.family)
  })
  s.on('error', (err) => console.error(err))
  s.bind(port, '127.0.0.1', () => s.setTTL(64))
  s.bind({ port, address: '127.0.0.1', exclusive: true })
  s.connect(port, '127.0.0.1', () => s.send(Buffer.from('x')))
  s.send(new Uint8Array(4), 0, 4, port, '127.0.0.1')
  s.send([Buffer.from('a'), 'b'], port)
  s.addMembership('224.0.0.114', '127.0.0.1')
  s.setMulticastInterface('127.0.0.1')
  const loop: boolean = s.setMulticastLoopback(true)
  const ttl: number = s.setMulticastTTL(1) + s.getRecvBufferSize() + s.getSendQueueCount()
  console.log(loop, ttl)
  s.ref().unref().close(() => undefined)
  return s
}

// unix_dgram additions are typed.
export function unix(dir: string): void {
  const s = dgramx.createSocket('unix_dgram', (msg, rinfo: dgramx.UnixRemoteInfo) => {
    const sender: string = rinfo.address
    const truncated: boolean | undefined = rinfo.truncated
    console.log(msg.length, sender, truncated)
  })
  s.bind(`${dir}/server.sock`, () => undefined)
  s.bind({ path: `${dir}/server.sock` })
  s.send('hello', `${dir}/peer.sock`, (err, bytes) => console.log(err, bytes))
  s.send(Buffer.from('hello'), 0, 5, `${dir}/peer.sock`)
  s.connect(`${dir}/peer.sock`, (err) => console.log(err))
}

// The checks have teeth: each line below must be a type error.
export function mistakes(): void {
  // @ts-expect-error unix_dgram sockets take paths, not ports and addresses
  dgramx.createSocket('unix_dgram').send('x', 1234, '127.0.0.1', () => undefined)
  // @ts-expect-error unknown socket types are rejected
  dgramx.createSocket('udp5')
  // @ts-expect-error a socket is not a number
  const n: number = dgramx.createSocket('udp4')
  console.log(n)
}

// Beyond node:dgram: createSocket's UDP sockets carry the extensions, and stay node Sockets.
export function beyond(): nodeDgram.Socket {
  const s = dgramx.createSocket({ type: 'udp4', recvMetadata: { pktinfo: true, tos: true }, recvErrors: true })
  s.on('message', (msg, rinfo) => {
    const local: string | undefined = rinfo.localAddress
    const ifindex: number | undefined = rinfo.interfaceIndex
    const ts: bigint | undefined = rinfo.timestamp
    console.log(ifindex, ts, rinfo.ecn)
    s.sendWith(msg, { port: rinfo.port, address: rinfo.address, source: local, tos: rinfo.tos }, (err, bytes) => console.log(err, bytes))
  })
  s.on('icmp', (e: dgramx.IcmpError) => {
    const kind: dgramx.IcmpErrorKind = e.kind
    const mtu: number | undefined = e.mtu
    console.log(kind, mtu, e.address, e.port, e.code)
  })
  const tos: number = s.setTOS(0xb8) + s.getTOS()
  const mtu: number = s.bindToDevice('lo').setMTUDiscover('do').setRecvMetadata(false).setRecvErrors(false).getPathMTU()
  s.forceRecvBufferSize(1 << 20).forceSendBufferSize(1 << 20)
  console.log(tos, mtu)
  const u: dgramx.UdpSocket = s
  return u
}
