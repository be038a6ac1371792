import { EventEmitter } from 'node:events'
import type { Socket as UdpSocket, RemoteInfo as UdpRemoteInfo } from '@dgramx/dgram'

/** What unix-dgram passes with each datagram: the sender's path under `path`. */
export interface RemoteInfo {
  size: number
  address: Record<string, never>
  path: string
}

export interface SocketOptions {
  /** Datagrams allowed to wait for a slow peer before sends report congestion (8192). */
  congestionLimit?: number
}

/** A send that was refused because `congestionLimit` datagrams were already waiting. */
export interface CongestionError extends Error {
  code: 'congestion'
  errno: 1
}

export type SendCallback = (err?: NodeJS.ErrnoException | CongestionError) => void

export declare class Socket extends EventEmitter {
  readonly type: 'unix_dgram'
  connected: boolean
  congestionLimit: number
  constructor(type: 'unix_dgram', listener?: (msg: Buffer, rinfo: RemoteInfo) => void, options?: SocketOptions)
  bind(path: string): void
  connect(path: string): void
  send(buf: Buffer, callback?: SendCallback): void
  send(buf: Buffer, offset: number, length: number, path: string, callback?: SendCallback): void
  sendto(buf: Buffer, offset: number, length: number, path: string, callback?: SendCallback): void
  close(): void
  address(): { address: string }
  ref(): this
  unref(): this
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this
  on(event: 'congestion', listener: (buf: Buffer) => void): this
  on(event: 'listening' | 'connect' | 'writable' | 'close', listener: () => void): this
  on(event: 'error', listener: (err: NodeJS.ErrnoException) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

export declare function createSocket(type: 'unix_dgram', listener?: (msg: Buffer, rinfo: RemoteInfo) => void, options?: SocketOptions): Socket
export declare function createSocket(type: 'udp4' | 'udp6', listener?: (msg: Buffer, rinfo: UdpRemoteInfo) => void): UdpSocket
