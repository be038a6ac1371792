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
import { Socket, kNative } from './socket'
import type { RemoteInfo, UnixRemoteInfo } from './types'
import { closeFds } from './unix'
import { validateInteger } from './validate'

/** A UDP or unix_dgram socket of ours (or any node:dgram-shaped socket). */
export type AnySocket = {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  on(event: string, listener: (...args: any[]) => void): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  off(event: string, listener: (...args: any[]) => void): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  once(event: string, listener: (...args: any[]) => void): unknown
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  send(...args: any[]): void
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  bind(...args: any[]): unknown
}

/** `socket.send(...)` resolving with the bytes sent, rejecting with the send error. */
export function send(socket: AnySocket, ...args: unknown[]): Promise<number> {
  return new Promise((resolve, reject) => {
    const callback = (err: Error | null, bytes: number): void => (err ? reject(err) : resolve(bytes))
    ;(socket.send as (...a: unknown[]) => void)(...args, callback)
  })
}

/** `socket.bind(...)` resolving once 'listening' fired, rejecting with the bind error. */
export async function bind(socket: AnySocket, ...args: unknown[]): Promise<void> {
  const listening = onceEvent(socket as unknown as NodeJS.EventEmitter, 'listening')
  ;(socket.bind as (...a: unknown[]) => void)(...args)
  await listening
}

export interface Datagram<R = RemoteInfo | UnixRemoteInfo> {
  msg: Buffer
  rinfo: R
}

export interface MessagesOptions {
  /** Datagrams buffered before reading from the kernel pauses (default 1024). */
  highWaterMark?: number
  /** Ends the iteration (with an AbortError) when aborted; the socket stays open. */
  signal?: AbortSignal
}

interface Native {
  recvStart(): void
  recvStop(): void
}

/** Received datagrams as an async iterator; see the module comment for its rules. */
export function messages<R = RemoteInfo | UnixRemoteInfo>(socket: AnySocket, options: MessagesOptions = {}): AsyncIterableIterator<Datagram<R>> {
  // As events.on() validates it: NaN, fractions and values below 1 would never pause.
  if (options.highWaterMark !== undefined) validateInteger(options.highWaterMark, 'options.highWaterMark', 1)
  const highWaterMark = options.highWaterMark ?? 1024
  const signal = options.signal
  const buffered: Datagram<R>[] = []
  let waiting: { resolve: (r: IteratorResult<Datagram<R>>) => void; reject: (e: unknown) => void } | null = null
  let ended = false
  let failure: unknown = null
  let paused = false
  const native = (): Native | null => (socket as unknown as Record<symbol, Native | null>)[kNative] ?? null

  const onMessage = (msg: Buffer, rinfo: R): void => {
    if (waiting) {
      const w = waiting
      waiting = null
      w.resolve({ value: { msg, rinfo }, done: false })
      return
    }
    buffered.push({ msg, rinfo })
    if (!paused && buffered.length >= highWaterMark) {
      paused = true
      native()?.recvStop()
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
  const onAbort = (): void => finish(signal?.reason ?? new DOMException('The operation was aborted', 'AbortError'))
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
      native()?.recvStart()
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

// `for await (const { msg, rinfo } of socket)` in JavaScript. Kept off the class type (as
// kNative is) so that Socket stays interchangeable with @types/node's; TypeScript code uses
// `promises.messages(socket)`, which also takes options.
Object.defineProperty(Socket.prototype, Symbol.asyncIterator, {
  value: function (this: Socket) {
    return messages(this)
  },
  configurable: true,
  writable: true,
})
