// Public types. Where they overlap with @types/node's `dgram` they have the same shape, so a
// TypeScript project can swap the import; the unix_dgram additions are separate types.

import type { NonSharedBuffer } from 'node:buffer'
import type { AddressInfo, BlockList } from 'node:net'
import type { Abortable } from 'node:events'
import type { LookupOneOptions } from 'node:dns'

export type UdpSocketType = 'udp4' | 'udp6'
export type SocketType = UdpSocketType | 'unix_dgram'

/** The sender of a UDP datagram, as node:dgram reports it. */
export interface RemoteInfo {
  address: string
  family: 'IPv4' | 'IPv6'
  port: number
  size: number
  /** Present (true) only when the datagram did not fit and `size` is its real size. */
  truncated?: boolean
}

/** The sender of a unix_dgram datagram: its path, '' when the sender is unnamed. */
export interface UnixRemoteInfo {
  address: string
  size: number
  /** Present (true) only when the datagram did not fit and `size` is its real size. */
  truncated?: boolean
}

export interface BindOptions {
  port?: number | undefined
  address?: string | undefined
  exclusive?: boolean | undefined
  fd?: number | undefined
}

/** unix_dgram: bind to a filesystem path or an abstract name ('\0name'); omit for autobind. */
export interface UnixBindOptions {
  path?: string | Buffer | undefined
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

export interface SocketOptions extends Abortable {
  type: SocketType
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

export type MessageListener = (msg: NonSharedBuffer, rinfo: RemoteInfo) => void
export type UnixMessageListener = (msg: NonSharedBuffer, rinfo: UnixRemoteInfo) => void
export type SendCallback = (error: Error | null, bytes: number) => void
export type SendMessage = string | NodeJS.ArrayBufferView | readonly unknown[]

export type { AddressInfo }
