// @dgramx/dgram: node:dgram's API over udp4, udp6 and unix_dgram, on a Rust native core.

import { Socket, kNative, type UnixSocket } from './socket'
import * as promises from './promises'
import type { MessageListener, SocketOptions, SocketType, UdpSocketType, UnixMessageListener, UnixSocketOptions } from './types'

export function createSocket(type: UdpSocketType, callback?: MessageListener): Socket
export function createSocket(type: 'unix_dgram', callback?: UnixMessageListener): UnixSocket
export function createSocket(options: UnixSocketOptions, callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions, callback?: MessageListener): Socket
export function createSocket(type: SocketType | SocketOptions | UnixSocketOptions, callback?: MessageListener | UnixMessageListener): Socket | UnixSocket
export function createSocket(type: SocketType | SocketOptions | UnixSocketOptions, callback?: MessageListener | UnixMessageListener): Socket | UnixSocket {
  return new Socket(type, callback)
}

export { Socket, kNative, promises }
export type { Datagram, MessagesOptions } from './promises'
export type { UnixSocket }
export type {
  AddressInfo,
  BindOptions,
  LookupFunction,
  MessageListener,
  RemoteInfo,
  SendCallback,
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

const dgram = { createSocket, Socket, promises }
export default dgram
