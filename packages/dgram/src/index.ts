// @dgramx/dgram: node:dgram's API over udp4, udp6 and unix_dgram, on a Rust native core.

import { Socket, kNative, unixSync, type SocketExtensions, type UdpSocket, type UnixSocket } from './socket'
import * as promises from './promises'
import { createSocketHandle } from './dep0112'
import { socketpair } from './pair'
import type { MessageListener, SendMany, SocketOptions, SocketType, UdpSocketType, UnixMessageListener, UnixSocketOptions } from './types'

export function createSocket(type: UdpSocketType, callback?: MessageListener): UdpSocket
export function createSocket(type: 'unix_dgram', callback?: UnixMessageListener): UnixSocket
export function createSocket(options: UnixSocketOptions, callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions, callback?: MessageListener): UdpSocket
export function createSocket(type: SocketType | SocketOptions | UnixSocketOptions, callback?: MessageListener | UnixMessageListener): UdpSocket | UnixSocket
export function createSocket(type: SocketType | SocketOptions | UnixSocketOptions, callback?: MessageListener | UnixMessageListener): UdpSocket | UnixSocket {
  return new Socket(type, callback) as UdpSocket
}

export { Socket, kNative, promises }
export { MessageBatch } from './batch'
export { socketpair }
export type { SocketpairOptions } from './pair'
/** Synchronous unix_dgram bind/connect/send for @dgramx/unix-dgram; not part of the node:dgram API. */
export { unixSync }

/**
 * @deprecated DEP0112: node:dgram's own `_createSocketHandle` (a node UDP handle, for node's
 * cluster internals), present where the running node:dgram still has it.
 */
export const _createSocketHandle = createSocketHandle
export type { AnySocket, Datagram, MessagesOptions, RemoteInfoOf } from './promises'
export type { SocketExtensions, UdpSocket, UnixSocket }
/** createSocket('udp4' | 'udp6')'s socket, batch API included (the same as UdpSocket). */
export type BatchSocket = UdpSocket & { sendMany: SendMany }
export type {
  AddressInfo,
  BindOptions,
  LookupFunction,
  MessageListener,
  NonSharedBuffer,
  RemoteInfo,
  SendCallback,
  SendMany,
  SendMessage,
  SendQueueLimit,
  SocketOptions,
  SocketType,
  UdpSocketType,
  UnixAddressInfo,
  UnixBindOptions,
  UnixMessageListener,
  UnixRemoteInfo,
  UnixSocketOptions,
} from './types'
export type { SystemError } from './errors'
/** The native handle behind `socket[kNative]` (diagnostics and tests). */
export type { NativeSocket as NativeHandle, NativeAddress } from './native-types'
export type { AdvancedSocketOptions, MtuDiscoverMode, SendWithOptions } from './advanced'
export type { DatagramMetadata, RecvMetadataOptions } from './metadata'
export type { IcmpReport, IcmpReportKind, IcmpError, IcmpErrorKind } from './icmp'

const dgram = { createSocket, Socket, promises, socketpair, _createSocketHandle }
export default dgram
