// Promise and async-iteration forms of the callback API, as functions over a socket so that
// the Socket type stays interchangeable with @types/node's (the callback API is unchanged).
//
//   await promises.send(socket, 'hi', 41234, '127.0.0.1')      // resolves with the bytes sent
//   for await (const { msg, rinfo } of promises.messages(socket)) { ... }
//
// The iterator applies backpressure: past `highWaterMark` buffered datagrams it stops reading
// from the kernel (datagrams then wait in the socket's receive buffer, where the kernel may
// drop UDP as it always does) and resumes once the consumer has caught up. It ends when the
// socket closes or the signal aborts, and fails with the socket's 'error'.

import { once as onceEvent } from 'node:events'
import { Socket, kNative, type UnixSocket } from './socket'
import type { BindOptions, Datagram, NonSharedBuffer, RemoteInfo, SendMessage, UnixBindOptions, UnixRemoteInfo } from './types'
import { closeFds } from './unix'
import { validateAbortSignal, validateInteger } from './validate'

export type { Datagram }

/** A socket of ours or of node:dgram (node's Socket is assignable to ours). */
export type AnySocket = Socket | UnixSocket

/** The rinfo a socket's 'message' carries: UnixRemoteInfo for unix_dgram, RemoteInfo for UDP. */
export type RemoteInfoOf<S> = S extends UnixSocket ? UnixRemoteInfo : S extends Socket ? RemoteInfo : RemoteInfo | UnixRemoteInfo

/** `socket.send(...)` resolving with the bytes sent, rejecting with the send error. */
export function send(socket: UnixSocket, msg: SendMessage, path?: string | Buffer): Promise<number>
export function send(socket: UnixSocket, msg: string | NodeJS.ArrayBufferView, offset: number, length: number, path?: string | Buffer): Promise<number>
export function send(socket: Socket, msg: SendMessage, port?: number, address?: string): Promise<number>
export function send(socket: Socket, msg: string | NodeJS.ArrayBufferView, offset: number, length: number, port?: number, address?: string): Promise<number>
export function send(socket: AnySocket, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const callback = (err: Error | null, bytes: number): void => (err ? reject(err) : resolve(bytes))
    // Trailing undefineds would be read as the destination; send() treats them as absent too.
    while (args.length > 1 && args[args.length - 1] === undefined) args.pop()
    ;(socket.send as (...a: unknown[]) => void).call(socket, ...args, callback)
  })
}

/** `socket.bind(...)` resolving once 'listening' fired, rejecting with the bind error. */
export function bind(socket: UnixSocket, path?: string | Buffer | UnixBindOptions): Promise<void>
export function bind(socket: Socket, port?: number, address?: string): Promise<void>
export function bind(socket: Socket, options: BindOptions): Promise<void>
export async function bind(socket: AnySocket, ...args: unknown[]): Promise<void> {
  const listening = onceEvent(socket as unknown as NodeJS.EventEmitter, 'listening')
  ;(socket.bind as (...a: unknown[]) => void).call(socket, ...args)
  await listening
}

export interface MessagesOptions {
  /** Datagrams buffered before reading from the kernel pauses (default 1024). */
  highWaterMark?: number
  /**
   * Ends the iteration when aborted, the socket staying open: the pending (or next) step
   * rejects with an AbortError like events.on's (`code: 'ABORT_ERR'`, `cause`: the reason).
   */
  signal?: AbortSignal
}

interface Native {
  recvStart(): void
  recvStop(): void
}

/** node's internal AbortError, as events.on rejects with it. */
class AbortError extends Error {
  readonly code = 'ABORT_ERR'
  constructor(options?: { cause: unknown }) {
    super('The operation was aborted', options)
    this.name = 'AbortError'
  }
}

/** Received datagrams as an async iterator; see the module comment for its rules. */
export function messages<S extends AnySocket>(socket: S, options?: MessagesOptions): AsyncIterableIterator<Datagram<RemoteInfoOf<S>>>
/** @deprecated The rinfo type follows from the socket; an explicit one is not checked. */
export function messages<R extends RemoteInfo | UnixRemoteInfo>(socket: AnySocket, options?: MessagesOptions): AsyncIterableIterator<Datagram<R>>
export function messages<R>(socket: AnySocket, options: MessagesOptions = {}): AsyncIterableIterator<Datagram<R>> {
  // As events.on() validates it: NaN, fractions and values below 1 would never pause.
  if (options.highWaterMark !== undefined) validateInteger(options.highWaterMark, 'options.highWaterMark', 1)
  if (options.signal !== undefined) validateAbortSignal(options.signal, 'options.signal')
  const highWaterMark = options.highWaterMark ?? 1024
  const signal = options.signal
  const buffered: Datagram<R>[] = []
  let waiting: { resolve: (r: IteratorResult<Datagram<R>>) => void; reject: (e: unknown) => void } | null = null
  let ended = false
  let failure: unknown = null
  let paused = false
  // Our sockets pause themselves (flow.ts); a node:dgram socket has no pause(), so its handle
  // cannot be paused and the buffer grows instead.
  const flowing = socket as unknown as { pause?: () => void; resume?: () => void }
  const native = (): Native | null => (socket as unknown as Record<symbol, Native | null>)[kNative] ?? null
  const stop = (): void => {
    if (typeof flowing.pause === 'function') flowing.pause()
    else native()?.recvStop()
  }

  const onMessage = (msg: NonSharedBuffer, rinfo: R): void => {
    if (waiting) {
      const w = waiting
      waiting = null
      w.resolve({ value: { msg, rinfo }, done: false })
      return
    }
    buffered.push({ msg, rinfo })
    if (!paused && buffered.length >= highWaterMark) {
      paused = true
      stop()
    }
  }
  const finish = (err: unknown): void => {
    if (ended) return
    ended = true
    failure = err
    cleanup()
    if (waiting) {
      const w = waiting
      waiting = null
      if (err && buffered.length === 0) w.reject(err)
      else w.resolve({ value: undefined, done: true })
    }
  }
  const onClose = (): void => finish(null)
  const onError = (err: Error): void => finish(err)
  const onAbort = (): void => finish(new AbortError({ cause: signal?.reason }))
  const cleanup = (): void => {
    socket.off('message', onMessage as never)
    socket.off('close', onClose)
    socket.off('error', onError)
    signal?.removeEventListener('abort', onAbort)
    if (paused) resume()
  }
  const resume = (): void => {
    paused = false
    try {
      if (typeof flowing.resume === 'function') flowing.resume()
      else native()?.recvStart()
    } catch {
      // Closed meanwhile: nothing to resume.
    }
  }

  socket.on('message', onMessage as never)
  socket.once('close', onClose)
  socket.once('error', onError)
  if (signal?.aborted) onAbort()
  else signal?.addEventListener('abort', onAbort, { once: true })

  const iterator: AsyncIterableIterator<Datagram<R>> = {
    next(): Promise<IteratorResult<Datagram<R>>> {
      const item = buffered.shift()
      if (item) {
        if (paused && buffered.length < highWaterMark / 2) resume()
        return Promise.resolve({ value: item, done: false })
      }
      if (ended) {
        if (failure) {
          const err = failure
          failure = null
          return Promise.reject(err)
        }
        return Promise.resolve({ value: undefined, done: true })
      }
      return new Promise((resolve, reject) => (waiting = { resolve, reject }))
    },
    return(): Promise<IteratorResult<Datagram<R>>> {
      finish(null)
      // Nobody will see these datagrams now: descriptors they carried are ours to close.
      for (const { rinfo } of buffered.splice(0)) {
        const fds = (rinfo as { fds?: number[] }).fds
        if (fds !== undefined) closeFds(fds)
      }
      return Promise.resolve({ value: undefined, done: true })
    },
    [Symbol.asyncIterator]() {
      return iterator
    },
  }
  return iterator
}

// `for await (const { msg, rinfo } of socket)`. Kept off the class type (as kNative is) so that
// Socket stays interchangeable with @types/node's; typed on UdpSocket and UnixSocket, which
// createSocket() returns. `promises.messages(socket)` also takes options.
Object.defineProperty(Socket.prototype, Symbol.asyncIterator, {
  value: function (this: Socket) {
    return messages(this)
  },
  configurable: true,
  writable: true,
})
