// @dgramx/dgram: node:dgram's API over udp4, udp6 and unix_dgram, on a Rust native core.

import { Socket, kNative, type SocketExtensions, type UdpSocket, type UnixSocket } from './socket'
import type { MessageListener, SocketOptions, SocketType, UdpSocketType, UnixMessageListener } from './types'

export function createSocket(type: UdpSocketType, callback?: MessageListener): UdpSocket
export function createSocket(type: 'unix_dgram', callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions & { type: 'unix_dgram' }, callback?: UnixMessageListener): UnixSocket
export function createSocket(options: SocketOptions, callback?: MessageListener): UdpSocket
export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener | UnixMessageListener): UdpSocket | UnixSocket
export function createSocket(type: SocketType | SocketOptions, callback?: MessageListener | UnixMessageListener): UdpSocket | UnixSocket {
  return new Socket(type, callback) as UdpSocket
}

export { Socket, kNative }
export type { SocketExtensions, UdpSocket, UnixSocket }
export type {
  AddressInfo,
  BindOptions,
  LookupFunction,
  MessageListener,
  RemoteInfo,
  SendCallback,
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
export type { AdvancedSocketOptions, MtuDiscoverMode, SendWithOptions } from './advanced'
export type { DatagramMetadata, RecvMetadataOptions } from './metadata'
export type { IcmpError, IcmpErrorKind } from './icmp'

const dgram = { createSocket, Socket }
export default dgram
