import { EventEmitter } from 'node:events'
import type { Socket as UdpSocket, RemoteInfo as UdpRemoteInfo } from '@dgramx/dgram'

/** What unix-dgram passes with each datagram: the sender's path, or null when it is unnamed. */
export interface RemoteInfo {
  size: number
  address: Record<string, never>
  path: string | null
}

export interface SocketOptions {
  /**
   * Added: datagrams allowed to wait for a full peer before sends are refused (an integer
   * >= 1). 1, the default, is unix-dgram's behaviour.
   */
  congestionLimit?: number
}

/** unix-dgram's error for a failed system call: `errno` and `code` are the negative errno (-2 for ENOENT). */
export interface UnixDgramError extends Error {
  /** The negative errno, e.g. -111 for ECONNREFUSED. */
  code: number
  errno: number
  syscall: 'bind' | 'connect' | 'send' | 'close' | string
}

/** A connected send the peer could not take: message 'congestion', code 1. */
export interface CongestionError extends Error {
  code: 1
}

export type SendCallback = (err?: UnixDgramError | CongestionError) => void

export declare class Socket extends EventEmitter {
  readonly type: 'unix_dgram'
  /** The descriptor; -1 after close(). */
  fd: number
  connected?: boolean
  congestionLimit: number
  constructor(type: 'unix_dgram', listener?: (msg: Buffer, rinfo: RemoteInfo) => void, options?: SocketOptions)
  /** Binds now: 'listening' or 'error' is emitted before this returns. */
  bind(path: string): void
  /** Connects now: 'connect' or 'error' is emitted before this returns. */
  connect(path: string): void
  /** Connected: sends `buf` whole; the callback (or 'error'/'congestion') runs before this returns. */
  send(buf: NodeJS.ArrayBufferView, callback?: SendCallback): void
  send(buf: NodeJS.ArrayBufferView, offset: number, length: number, path: string, callback?: SendCallback): void
  sendto(buf: NodeJS.ArrayBufferView, offset: number, length: number, path: string, callback?: SendCallback): void
  /** Closes now; no 'close' event. A second close() throws (EBADF). */
  close(): void
  /** Added (unix-dgram throws 'not implemented'). */
  address(): { address: string }
  /** Added. */
  ref(): this
  /** Added. */
  unref(): this
  on(event: 'message', listener: (msg: Buffer, rinfo: RemoteInfo) => void): this
  on(event: 'congestion', listener: (buf: Buffer) => void): this
  on(event: 'listening' | 'connect' | 'writable', listener: () => void): this
  on(event: 'error', listener: (err: UnixDgramError) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
}

export declare function createSocket(type: 'unix_dgram', listener?: (msg: Buffer, rinfo: RemoteInfo) => void, options?: SocketOptions): Socket
export declare function createSocket(type: 'udp4' | 'udp6', listener?: (msg: Buffer, rinfo: UdpRemoteInfo) => void): UdpSocket
