// Type-check fixture for strict TypeScript users (issue 16, items 11-13): the README's
// promises example as written, typed async iteration, checked promise overloads, the
// @dgramx/dgram/promises entry, the module standing in for node:dgram, pause/resume,
// socketpair() and the setters' return rule. Checked by test/types.test.ts with tsc; never
// executed. Every @ts-expect-error line must be an error, or tsc fails.
import * as nodeDgram from 'node:dgram'
import { on } from 'node:events'
import { spawn } from 'node:child_process'
import dgramxDefault, * as dgramx from '@dgramx/dgram'
import { createSocket, promises, socketpair, type IcmpReport, type RemoteInfo, type UnixRemoteInfo } from '@dgramx/dgram'
import * as promisesEntry from '@dgramx/dgram/promises'

// The README's example, verbatim but for the top-level await being inside a function.
export async function readme(): Promise<void> {
  const server = createSocket('udp4')
  await promises.bind(server, 0, '127.0.0.1')
  const { port } = server.address()

  const client = createSocket('udp4')
  client.on('message', (msg) => {
    console.log(`reply: ${msg}`)
    if (`${msg}` === 'bye') client.close()
  })
  for (const word of ['one', 'two', 'bye']) client.send(word, port, '127.0.0.1')

  for await (const { msg, rinfo } of promises.messages(server, { highWaterMark: 1024 })) {
    await promises.send(server, msg, rinfo.port, rinfo.address) // echo
    if (`${msg}` === 'bye') break // leaving the loop stops the iteration
  }
  server.close()
}

// Nothing silently widens to `any` (what a failed import in a .d.ts becomes under skipLibCheck).
type IsAny<T> = 0 extends 1 & T ? true : false
export const notAny: [IsAny<dgramx.NonSharedBuffer>, IsAny<dgramx.Datagram['msg']>, IsAny<Parameters<dgramx.MessageListener>[0]>] = [false, false, false]

// rinfo follows from the socket, in messages() and in `for await (... of socket)`.
export async function inferred(): Promise<void> {
  const udp = createSocket('udp6')
  for await (const { msg, rinfo } of promises.messages(udp)) {
    const definite: [IsAny<typeof msg>, IsAny<typeof rinfo>] = [false, false]
    console.log(definite)
    const r: RemoteInfo = rinfo
    const p: number = rinfo.port
    const b: Buffer = msg
    console.log(r, p, b)
  }
  for await (const { rinfo } of udp) {
    const p: number = rinfo.port
    console.log(p)
  }
  const unix = createSocket('unix_dgram')
  for await (const { msg, rinfo } of promises.messages(unix, { signal: AbortSignal.timeout(10) })) {
    const r: UnixRemoteInfo = rinfo
    const fds: number[] | undefined = rinfo.fds
    console.log(r, fds, msg.length)
    // @ts-expect-error a unix_dgram sender has no port
    console.log(rinfo.port)
  }
  for await (const { rinfo } of unix) {
    const a: string = rinfo.address
    // @ts-expect-error a unix_dgram sender has no family
    console.log(a, rinfo.family)
  }
  // A node:dgram socket works too, typed as UDP.
  for await (const { rinfo } of promises.messages(nodeDgram.createSocket('udp4'))) console.log(rinfo.port)
}

// promises.send / promises.bind take what the socket's own send / bind take.
export async function overloads(): Promise<number> {
  const udp = createSocket('udp4')
  const unix = createSocket('unix_dgram')
  await promises.bind(udp, 0, '127.0.0.1')
  await promises.bind(udp, { port: 0, address: '::1', exclusive: true })
  await promises.bind(udp)
  await promises.bind(unix, '/tmp/x.sock')
  await promises.bind(unix, { path: '\0name', unlinkExisting: 'stale' })
  await promises.bind(unix)
  let n = await promises.send(udp, 'x', 1234, '127.0.0.1')
  n += await promises.send(udp, Buffer.from('x'))
  n += await promises.send(udp, new Uint8Array(4), 0, 4, 1234, 'localhost')
  n += await promises.send(udp, ['a', Buffer.from('b')], 1234)
  n += await promises.send(unix, 'x', '/tmp/x.sock')
  n += await promises.send(unix, Buffer.from('xy'), 0, 1, Buffer.from('/tmp/x.sock'))
  n += await promises.send(unix, 'connected')
  // @ts-expect-error a message is a string, a buffer view or an array of them
  await promises.send(udp, { not: 'a buffer' }, 'nope')
  // @ts-expect-error the port is a number
  await promises.send(udp, 'x', '1234', '127.0.0.1')
  // @ts-expect-error unix_dgram sends go to paths, not ports
  await promises.send(unix, 'x', 1234, '127.0.0.1')
  // @ts-expect-error unix_dgram binds to paths
  await promises.bind(unix, 0, '127.0.0.1')
  // @ts-expect-error not a socket
  await promises.send({}, 'x', 1234)
  // @ts-expect-error highWaterMark is a number
  promises.messages(udp, { highWaterMark: '10' })
  return n
}

// The subpath entry is the same module as `promises`.
export const entry: typeof promises = promisesEntry
export const entrySend: typeof promises.send = promisesEntry.send

// The module object stands in for node:dgram (dependency injection).
export function injected(dgram: typeof import('node:dgram')): nodeDgram.Socket {
  return dgram.createSocket('udp4')
}
injected(dgramx)
injected(dgramxDefault)
export const moduleAsNode: typeof nodeDgram = dgramx

// pause()/resume() make node's events.on idiom apply backpressure; they chain.
export async function backpressure(): Promise<void> {
  const s = createSocket('udp4').pause().resume()
  const paused: boolean = s.isPaused()
  console.log(paused)
  for await (const [msg, rinfo] of on(s, 'message', { close: ['close'], highWaterMark: 64 } as Parameters<typeof on>[2])) {
    console.log(msg, rinfo)
  }
  createSocket('unix_dgram').pause().resume().close()
}

// socketpair(): two connected unix_dgram sockets; one end can go to a child process.
export function pair(): void {
  const [parent, child] = socketpair({ receiveFds: true })
  const both: [dgramx.UnixSocket, dgramx.UnixSocket] = socketpair()
  console.log(both)
  parent.on('message', (msg, rinfo) => console.log(msg.length, rinfo.fds))
  parent.send('hello')
  parent.sendWithFds('fd', [0])
  const fd: number = child.fileno()
  spawn(process.execPath, ['child.js'], { stdio: ['inherit', 'inherit', 'inherit', fd] })
  child.close()
  // @ts-expect-error socketpair ends are unix_dgram sockets: no ports
  parent.send('x', 1234, '127.0.0.1')
  // @ts-expect-error its options are unix_dgram's
  socketpair({ reusePort: true })
}

// The setters' rule: extension setters return the socket, except those mirroring a node
// setter that returns its value (setTOS, like setTTL).
export function setters(): void {
  const udp = createSocket({ type: 'udp4' })
  const chained: dgramx.UdpSocket = udp.setRecvMetadata(true).setRecvErrors(true).setMTUDiscover('do').bindToDevice('lo').forceRecvBufferSize(1).forceSendBufferSize(1)
  const tos: number = udp.setTOS(0)
  const ttl: number = udp.setTTL(64)
  const unix: dgramx.UnixSocket = createSocket('unix_dgram').setPassCredentials(true).setReceiveFds(true)
  console.log(chained, tos, ttl, unix)
  // 'icmp' hands over a plain report; the old name still works.
  udp.on('icmp', (report: IcmpReport) => console.log(report.kind, report.code))
  const old: dgramx.IcmpError = {} as IcmpReport
  console.log(old)
  // @ts-expect-error a report is not an Error
  const err: Error = {} as IcmpReport
  console.log(err)
}
