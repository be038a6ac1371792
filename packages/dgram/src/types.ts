// Public types. Where they overlap with @types/node's `dgram` they have the same shape, so a
// TypeScript project can swap the import; the unix_dgram additions are separate types.

import type { AddressInfo, BlockList } from 'node:net'
import type { Abortable } from 'node:events'
import type { LookupOneOptions } from 'node:dns'
import type { AdvancedSocketOptions, UdpOnlyOption } from './advanced'
import type { DatagramMetadata } from './metadata'

/**
 * What Buffer.alloc() returns, and what 'message' hands over: @types/node's `NonSharedBuffer`
 * (`Buffer<ArrayBuffer>`) where Buffer is generic, plain `Buffer` in older @types/node. Derived
 * rather than imported so that the types work with every @types/node from 20.0 on (importing
 * NonSharedBuffer fails before 20.19.x, and under skipLibCheck silently turns into `any`).
 */
export type NonSharedBuffer = ReturnType<typeof Buffer.alloc>

export type UdpSocketType = 'udp4' | 'udp6'
export type SocketType = UdpSocketType | 'unix_dgram'

/**
 * The sender of a UDP datagram, as node:dgram reports it; with `recvMetadata` on, also the
 * datagram's metadata (DatagramMetadata: localAddress, interfaceIndex, ttl, tos, ecn, timestamp).
 */
export interface RemoteInfo extends DatagramMetadata {
  address: string
  family: 'IPv4' | 'IPv6'
  port: number
  size: number
  /** Present (true) only when the datagram did not fit and `size` is its real size. */
  truncated?: boolean
}

/**
 * The sender of a unix_dgram datagram: its path, its Linux abstract name ('\0name'), or ''
 * when the sender is unnamed. Replying to `address` reaches the sender (unless it is '').
 */
export interface UnixRemoteInfo {
  address: string
  size: number
  /** Present (true) only when the datagram did not fit and `size` is its real size. */
  truncated?: boolean
  /** The sender's process, user and group ids (Linux, with `passCredentials`). */
  pid?: number
  uid?: number
  gid?: number
  /**
   * Descriptors that came with the datagram (SCM_RIGHTS, with `receiveFds`), already
   * close-on-exec. They belong to the 'message' listeners: close them (fs.closeSync) when done.
   * When no 'message' listener runs for the datagram, the socket closes them itself.
   */
  fds?: number[]
  /** Present (true) when the kernel dropped ancillary data that did not fit (MSG_CTRUNC). */
  ancillaryTruncated?: boolean
}

export interface BindOptions {
  port?: number | undefined
  address?: string | undefined
  exclusive?: boolean | undefined
  fd?: number | undefined
}

/**
 * unix_dgram: bind to a filesystem path or a Linux abstract name ('\0name' or '@name'); omit
 * `path` for autobind (Linux).
 */
export interface UnixBindOptions {
  path?: string | Buffer | undefined
  /**
   * What to do when a socket file already exists at `path`. `'stale'` (the default) removes it
   * only if no datagram socket is bound to it any more (a probe connect is refused), like a
   * daemon clearing a crashed run's file; `true` removes any socket file there; `false` never
   * removes anything (bind fails with EADDRINUSE). Regular files, directories and the like are
   * never removed.
   */
  unlinkExisting?: boolean | 'stale' | undefined
  /** Permission bits for the socket file, applied with chmod right after bind (umask-proof). */
  mode?: number | undefined
  /**
   * Remove the socket file on close, if it is still the one this bind created (default `true`,
   * as `net.Server` does; overrides the createSocket option).
   */
  unlinkOnClose?: boolean | undefined
  /** Adopt this open AF_UNIX datagram socket (e.g. from systemd socket activation) instead. */
  fd?: number | undefined
}

/**
 * Bounds on the send queue: a send that would have to wait past one fails with
 * ERR_SOCKET_DGRAM_QUEUE_FULL. A bound left out keeps its default; `Infinity` lifts it.
 */
export interface SendQueueLimit {
  /** Bytes waiting for all destinations together (default 64 MiB). */
  bytes?: number | undefined
  /** Datagrams waiting for all destinations together (default 65,536). */
  datagrams?: number | undefined
  /** The same for each destination's own queue (default 16,384 datagrams or 16 MiB). */
  perDestination?: { bytes?: number | undefined; datagrams?: number | undefined } | undefined
}

/** The address of a bound unix_dgram socket ('' when unnamed). */
export interface UnixAddressInfo {
  address: string
}

export type LookupFunction = (
  hostname: string,
  options: LookupOneOptions,
  callback: (err: NodeJS.ErrnoException | null, address: string, family: number) => void,
) => void

export interface SocketOptions extends Abortable, AdvancedSocketOptions {
  /** udp4 or udp6; unix_dgram sockets take UnixSocketOptions. */
  type: UdpSocketType
  reuseAddr?: boolean | undefined
  /** Honoured on every supported Node version (node:dgram ignores it before 22.12). */
  reusePort?: boolean | undefined
  /** @default false */
  ipv6Only?: boolean | undefined
  recvBufferSize?: number | undefined
  sendBufferSize?: number | undefined
  lookup?: LookupFunction | undefined
  receiveBlockList?: BlockList | undefined
  sendBlockList?: BlockList | undefined
  /**
   * Beyond node:dgram (UDP, Linux): sendMany() sends runs of equal-sized datagrams with UDP
   * GSO (`UDP_SEGMENT`), one syscall per up to 64 datagrams. Probed on first use; where the
   * kernel or route cannot segment, sendMany() falls back to sendmmsg. @default false
   */
  gso?: boolean | undefined
  /**
   * Beyond node:dgram (UDP, Linux): receive with UDP GRO, so the kernel hands over coalesced
   * datagrams in fewer reads. They are split back, so 'message' still fires once per datagram
   * as sent. Ignored where unsupported. @default false
   */
  gro?: boolean | undefined
}

/**
 * socket.sendMany(): each element of `messages` as its own datagram, in as few syscalls as the
 * kernel allows. UDP: (messages, port, address?, callback?) like send(); on a connected socket
 * (messages, callback?).
 */
export interface SendMany {
  (messages: readonly (string | NodeJS.ArrayBufferView)[], port?: number, address?: string, callback?: SendCallback): void
  (messages: readonly (string | NodeJS.ArrayBufferView)[], port?: number, callback?: SendCallback): void
  (messages: readonly (string | NodeJS.ArrayBufferView)[], callback?: SendCallback): void
}

/** createSocket options for unix_dgram sockets: the common ones plus unix-only ones. */
export interface UnixSocketOptions extends Omit<SocketOptions, 'type' | UdpOnlyOption> {
  type: 'unix_dgram'
  /** Remove the bound socket file on close (default `true`; `bind({ unlinkOnClose })` wins). */
  unlinkOnClose?: boolean | undefined
  /**
   * Bound the sends waiting for peers that cannot take them yet (a number = total bytes).
   * Each destination waits in its own queue, so a peer that stops reading holds up only its
   * own datagrams. Bounded by default: 16,384 datagrams or 16 MiB per destination, 65,536
   * datagrams or 64 MiB in all. A send that would go past a bound fails at once with
   * ERR_SOCKET_DGRAM_QUEUE_FULL and is not sent; 'drain' tells when every queue has emptied.
   */
  sendQueueLimit?: number | SendQueueLimit | undefined
  /** Linux: receive the sender's pid/uid/gid with every datagram (SO_PASSCRED). */
  passCredentials?: boolean | undefined
  /** Accept descriptors passed with datagrams (SCM_RIGHTS) as `rinfo.fds`. */
  receiveFds?: boolean | undefined
}

export type MessageListener = (msg: NonSharedBuffer, rinfo: RemoteInfo) => void
export type UnixMessageListener = (msg: NonSharedBuffer, rinfo: UnixRemoteInfo) => void
export type SendCallback = (error: Error | null, bytes: number) => void
export type SendMessage = string | NodeJS.ArrayBufferView | readonly unknown[]

/** One received datagram, as `promises.messages()` and `for await (... of socket)` yield it. */
export interface Datagram<R = RemoteInfo | UnixRemoteInfo> {
  msg: NonSharedBuffer
  rinfo: R
}

export type { AddressInfo }
