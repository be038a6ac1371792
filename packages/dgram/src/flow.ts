// pause() / resume(): flow control for 'message', the way readable streams have it, so that
// node's own `events.on(socket, 'message', { highWaterMark })` applies real backpressure (it
// calls emitter.pause() past highWaterMark and emitter.resume() below lowWaterMark).
//
// A paused socket stops reading from the kernel: new datagrams wait in the socket's receive
// buffer (where the kernel drops UDP once it is full, as it always does; a unix_dgram sender
// waits in its send queue instead). The rest of a receive batch already read keeps arriving,
// so at most one batch comes after pause(). The pause outlives a bind still in progress.

interface Reader {
  recvStart(): void
  recvStop(): void
}

const paused = new WeakSet<object>()

export function isPaused(socket: object): boolean {
  return paused.has(socket)
}

/** Stops reading; `native` is null once the socket is closed (then there is nothing to do). */
export function pause(socket: object, native: Reader | null, receiving: boolean): void {
  if (paused.has(socket)) return
  paused.add(socket)
  if (native !== null && receiving) native.recvStop()
}

export function resume(socket: object, native: Reader | null, receiving: boolean): void {
  if (!paused.delete(socket)) return
  if (native !== null && receiving) native.recvStart()
}

/** Where a socket starts receiving (bind, fd adoption): not while paused. */
export function startReading(socket: object, native: Reader): void {
  if (!paused.has(socket)) native.recvStart()
}
