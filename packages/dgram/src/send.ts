// The facade's side of queued sends: each request the binding could not send at once is kept
// under the request id the binding gave it, until a SendsDone event names that id (or close()
// reports it dropped). Nothing is matched by position, so a request of several datagrams, a
// failure or a close() inside a callback cannot shift one send's outcome onto another.

import type { SendCallback } from './types'

/** A send waiting in the native queue. */
export interface PendingSend {
  callback: SendCallback | undefined
  address: unknown
  port: unknown
  /** unix_dgram reports failures without a callback on 'error'; UDP drops them, as node does. */
  emitWithoutCallback: boolean
}

/** Pending sends by request id, in the order they were queued. */
export type PendingSends = Map<number, PendingSend>

/**
 * Records `result` of a one-datagram native send: a negative value is the id of the queued
 * request (`-result`). Returns false when the datagram was sent at once (nothing to record).
 */
export function recordIfQueued(pending: PendingSends, result: number, send: PendingSend): boolean {
  if (result >= 0) return false
  pending.set(-result, send)
  return true
}

/**
 * Takes the finished requests out of `pending` before any callback runs, so a callback that
 * closes the socket cannot cancel a datagram the kernel already took.
 */
export function takeFinished(pending: PendingSends, ids: number[]): (PendingSend | undefined)[] {
  return ids.map((id) => {
    const send = pending.get(id)
    pending.delete(id)
    return send
  })
}

/** Takes the dropped requests (ids from close()) and anything else still pending, in order. */
export function takeCancelled(pending: PendingSends, dropped: number[]): PendingSend[] {
  const out: PendingSend[] = []
  for (const id of dropped) {
    const send = pending.get(id)
    if (send !== undefined) out.push(send)
    pending.delete(id)
  }
  // The binding drops every queued request at close; anything left here would otherwise hang.
  for (const send of pending.values()) out.push(send)
  pending.clear()
  return out
}
