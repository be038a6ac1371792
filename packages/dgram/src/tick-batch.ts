// The UDP sends of one tick, flushed together: one native call and one sendmmsg for a burst
// of send() calls, instead of one crossing and one syscall per datagram.
//
// Only sends that node:dgram itself would perform a tick later (after its dns.lookup of an IP
// literal) are collected, and the batch goes out on that same tick (process.nextTick), so
// callbacks run when node's would. The first such send after an event goes straight out
// (socket.ts decides): a reply then costs no extra tick, and a burst's second send starts
// the batch. Anything else that
// sends on the socket (sendMany, sendWith, connected sends, unix paths) and close() flush the
// batch first, so datagrams leave in the order they were sent.

import { AsyncResource, executionAsyncId } from 'node:async_hooks'

import { nativeCode } from './errors'
import type { NativeSocket as NativeHandle } from './native-types'
import { recordIfQueued, type PendingSends } from './send'
import type { SendCallback } from './types'

const QUEUED = -1

export interface TickBatchOwner {
  native: NativeHandle | null
  batch: TickBatch
  pending: PendingSends
}

export class TickBatch {
  data: Buffer[] = []
  ips: string[] = []
  ports: number[] = []
  addresses: unknown[] = []
  callbacks: (SendCallback | undefined)[] = []
  /** The async context the flush will run in (that of the tick's first send). */
  asyncId = 0
  /** Every send so far goes to the same ip and port: the binding gets that once. */
  sameDestination = true

  get length(): number {
    return this.data.length
  }

  clear(): void {
    this.data.length = 0
    this.ips.length = 0
    this.ports.length = 0
    this.addresses.length = 0
    this.callbacks.length = 0
    this.sameDestination = true
  }
}

/**
 * Adds one send (ip '' for the connected peer) and schedules the flush with the first one.
 * `toError` turns a native error code into the send's error, as a lone send would get it.
 */
export function addToBatch(
  owner: TickBatchOwner,
  data: Buffer,
  ip: string,
  port: number,
  address: unknown,
  callback: SendCallback | undefined,
  toError: (code: string, address: unknown, port: unknown) => Error,
): void {
  const batch = owner.batch
  if (batch.length === 0) {
    batch.asyncId = executionAsyncId()
    process.nextTick(flushBatch, owner, false, toError)
  } else if (callback !== undefined && executionAsyncId() !== batch.asyncId) {
    // Rare: sends from several async contexts in one tick. Each callback keeps its own.
    callback = AsyncResource.bind(callback)
  }
  if (batch.length > 0 && (ip !== batch.ips[0] || port !== batch.ports[0])) batch.sameDestination = false
  batch.data.push(data)
  batch.ips.push(ip)
  batch.ports.push(port)
  batch.addresses.push(address)
  batch.callbacks.push(callback)
}

/**
 * Sends everything collected. Each send completes as it would have alone: its callback gets
 * the byte count or its own error on the next tick; one the kernel could not take yet waits in
 * the queue (`pending`) in order. While `closing`, the datagrams still leave but their
 * callbacks are dropped, as node drops those of sends whose lookup outlived the socket.
 */
export function flushBatch(
  owner: TickBatchOwner,
  closing: boolean,
  toError: (code: string, address: unknown, port: unknown) => Error,
): void {
  const batch = owner.batch
  const n = batch.length
  if (n === 0) return
  const native = owner.native
  if (n === 1) {
    // A lone send (the request/response case): the plain one-datagram call, no arrays.
    const data = batch.data[0], ip = batch.ips[0], port = batch.ports[0]
    const address = batch.addresses[0], callback = batch.callbacks[0]
    batch.clear()
    if (native !== null) sendOne(owner, native, data, ip, port, address, callback, closing, toError)
    return
  }
  owner.batch = new TickBatch()
  if (native === null) return
  let outcome: { sent: number; rest: number[]; codes: string[]; ids: number[] }
  try {
    const ips = batch.sameDestination ? [batch.ips[0]] : batch.ips
    const ports = batch.sameDestination ? [batch.ports[0]] : batch.ports
    outcome = native.sendBatch(batch.data, ips, ports)
  } catch {
    // Only a handle closed underneath us throws here: nothing was sent.
    return
  }
  let failed = 0
  let queued = 0
  for (let i = 0; i < n; i++) {
    const result = i < outcome.sent ? batch.data[i].length : outcome.rest[i - outcome.sent]
    const callback = batch.callbacks[i]
    if (result === QUEUED) {
      owner.pending.set(outcome.ids[queued++], {
        callback: callback && AsyncResource.bind(callback),
        address: batch.addresses[i],
        port: batch.ports[i],
        emitWithoutCallback: false,
      })
    } else if (result >= 0) {
      if (callback !== undefined && !closing) process.nextTick(callback, null, result)
    } else {
      const code = outcome.codes[failed++]
      if (callback !== undefined && !closing) {
        process.nextTick(callback, toError(code, batch.addresses[i], batch.ports[i]))
      }
    }
  }
}

function sendOne(
  owner: TickBatchOwner,
  native: NativeHandle,
  data: Buffer,
  ip: string,
  port: number,
  address: unknown,
  callback: SendCallback | undefined,
  closing: boolean,
  toError: (code: string, address: unknown, port: unknown) => Error,
): void {
  let sent: number
  try {
    sent = native.send(data, ip, port)
  } catch (e) {
    if (callback !== undefined && !closing) process.nextTick(callback, toError(nativeCode(e), address, port))
    return
  }
  const queued = recordIfQueued(owner.pending, sent, { callback: callback && AsyncResource.bind(callback), address, port, emitWithoutCallback: false })
  if (!queued && callback !== undefined && !closing) process.nextTick(callback, null, sent)
}
