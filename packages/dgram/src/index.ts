// @dgramx/dgram: node:dgram's API over udp4, udp6 and unix_dgram, on a Rust native core.

import { Socket, kNative, type UnixSocket } from './socket'
import type { MessageListener, SendMany, SocketOptions, SocketType, UdpSocketType, UnixMessageListener } from './types'

/** A Socket as createSocket() returns it: with the batch API typed as always present. */
export type BatchSocket = Socket & { sendMany: SendMany }

export function createSocket(type: UdpSocketType, callback?: MessageListener): BatchSocket
export function createSocket(type: 'unix_dgram', callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions & { type: 'unix_dgram' }, callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions, callback?: MessageListener): BatchSocket
export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener | UnixMessageListener): BatchSocket | UnixSocket
export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener | UnixMessageListener): BatchSocket | UnixSocket {
  return new Socket(type, callback) as BatchSocket
}

export { Socket, kNative }
export type { UnixSocket }
export type {
  AddressInfo,
  BindOptions,
  LookupFunction,
  MessageListener,
  RemoteInfo,
  SendCallback,
  SendMany,
  SendMessage,
  SocketOptions,
  SocketType,
  UdpSocketType,
  UnixAddressInfo,
  UnixBindOptions,
  UnixMessageListener,
  UnixRemoteInfo,
} from './types'
export type { SystemError } from './errors'

const dgram = { createSocket, Socket }
export default dgram
