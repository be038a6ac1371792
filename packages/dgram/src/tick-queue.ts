// The unconnected UDP sends of every socket, in one queue, in call order.
//
// node:dgram resolves an unconnected send's address with dns.lookup, which answers an IP
// literal on process.nextTick: the datagram leaves from that tick, after anything queued on
// the tick queue before the send() call (another socket's bind or connect, which resolve the
// same way) and before anything queued after it. We skip the lookup (socket.ts) but keep the
// send's turn: a send joins the current *segment*, and a segment leaves on its own
// process.nextTick, scheduled with its first send. Whatever else the facade puts on the tick
// queue (a bind's, a connect's or a lookup's tick) seals the segment (seal()), so a later send
// starts a new one behind it. So every datagram leaves in node's order relative to every other
// socket's binds, connects and sends, while a burst of one socket's sends in one tick still
// leaves together: one native call and one sendmmsg per 64 datagrams.

import { AsyncResource, executionAsyncId } from 'node:async_hooks'

import { exceptionWithHostPort, nativeCode } from './errors'
import type { NativeSocket as NativeHandle } from './native-types'
import { recordIfQueued, type PendingSends } from './send'
import type { SendCallback } from './types'

const QUEUED = -1

/** A socket as the queue sees it. */
export interface QueueOwner {
  /** null once closed: its entries still in the queue are dropped, as node drops them. */
  native: NativeHandle | null
  pending: PendingSends
  /** How many of its entries wait in the queue (close() looks for them only when > 0). */
  queued: number
}

/**
 * Work that has to run at a send's turn but is not a plain send (sendMany, a send checked
 * against a block list). `closing`: close() runs it early, before the handle goes away, and
 * its callback must not run.
 */
export type QueuedWork = (closing: boolean) => void

const EMPTY = Buffer.alloc(0)

/** Takes the place of an owner whose entries close() already sent. */
const SENT_AT_CLOSE: QueueOwner = { native: null, pending: new Map(), queued: 0 }

/**
 * The sends between two other tick-queue entries, in call order. The first entry sits in
 * plain fields (a lone send, the request/response case, costs no array work); a second one
 * moves everything into the parallel arrays the binding's sendBatch takes.
 */
class Segment {
  count = 0
  owner0: QueueOwner | null = null
  data0: Buffer = EMPTY
  ip0 = ''
  port0 = 0
  address0: unknown = undefined
  callback0: SendCallback | undefined = undefined
  work0: QueuedWork | undefined = undefined
  owners: QueueOwner[] = []
  data: Buffer[] = []
  ips: string[] = []
  ports: number[] = []
  addresses: unknown[] = []
  callbacks: (SendCallback | undefined)[] = []
  work: (QueuedWork | undefined)[] = []
  /** The async context the flush runs in (that of the segment's first send). */
  asyncId = 0

  add(owner: QueueOwner, data: Buffer, ip: string, port: number, address: unknown, callback: SendCallback | undefined, work: QueuedWork | undefined): void {
    if (this.count === 0) {
      this.owner0 = owner
      this.data0 = data
      this.ip0 = ip
      this.port0 = port
      this.address0 = address
      this.callback0 = callback
      this.work0 = work
    } else {
      if (this.count === 1) this.push(this.owner0!, this.data0, this.ip0, this.port0, this.address0, this.callback0, this.work0)
      this.push(owner, data, ip, port, address, callback, work)
    }
    this.count++
  }

  private push(owner: QueueOwner, data: Buffer, ip: string, port: number, address: unknown, callback: SendCallback | undefined, work: QueuedWork | undefined): void {
    this.owners.push(owner)
    this.data.push(data)
    this.ips.push(ip)
    this.ports.push(port)
    this.addresses.push(address)
    this.callbacks.push(callback)
    this.work.push(work)
  }

  clear(): void {
    const many = this.count > 1
    this.count = 0
    this.owner0 = null
    this.data0 = EMPTY
    this.address0 = undefined
    this.callback0 = undefined
    this.work0 = undefined
    if (!many) return
    this.owners.length = 0
    this.data.length = 0
    this.ips.length = 0
    this.ports.length = 0
    this.addresses.length = 0
    this.callbacks.length = 0
    this.work.length = 0
  }
}

/** The segment new sends join; null after seal() or once it has left. */
let current: Segment | null = null
/** Scheduled segments that have not left yet, oldest first. */
const waiting: Segment[] = []
/** A flushed segment kept for reuse (one is enough: segments rarely overlap). */
let spare: Segment | null = null

/**
 * Something else now waits on the tick queue (a bind's or connect's lookup, a user lookup):
 * sends from here on leave after it.
 */
export function seal(): void {
  current = null
}

function openSegment(): Segment {
  const seg = spare ?? new Segment()
  spare = null
  seg.asyncId = executionAsyncId()
  current = seg
  waiting.push(seg)
  process.nextTick(flushSegment, seg)
  return seg
}

/** One unconnected send to `ip`:`port`, at its turn. */
export function enqueueSend(owner: QueueOwner, data: Buffer, ip: string, port: number, address: unknown, callback: SendCallback | undefined): void {
  let seg = current
  if (seg === null) seg = openSegment()
  // Rare: sends from several async contexts in one segment. Each callback keeps its own.
  else if (callback !== undefined && executionAsyncId() !== seg.asyncId) callback = AsyncResource.bind(callback)
  seg.add(owner, data, ip, port, address, callback, undefined)
  owner.queued++
}

/** Work that runs at the turn a send made now would take. */
export function enqueueWork(owner: QueueOwner, work: QueuedWork): void {
  let seg = current
  if (seg === null) seg = openSegment()
  else if (executionAsyncId() !== seg.asyncId) work = AsyncResource.bind(work)
  seg.add(owner, EMPTY, '', 0, undefined, undefined, work)
  owner.queued++
}

function flushSegment(seg: Segment): void {
  if (current === seg) current = null
  if (waiting[0] === seg) waiting.shift()
  else waiting.splice(waiting.indexOf(seg), 1)
  if (seg.count === 1) {
    const owner = seg.owner0!
    owner.queued--
    const native = owner.native
    if (native !== null) {
      if (seg.work0 !== undefined) seg.work0(false)
      else sendOne(owner, native, seg.data0, seg.ip0, seg.port0, seg.address0, seg.callback0, false)
    }
  } else {
    flushMany(seg)
  }
  seg.clear()
  spare = seg
}

function flushMany(seg: Segment): void {
  const n = seg.count
  let i = 0
  while (i < n) {
    const owner = seg.owners[i]
    const work = seg.work[i]
    if (work !== undefined) {
      owner.queued--
      if (owner.native !== null) work(false)
      i++
      continue
    }
    // A run of one socket's plain sends goes to the binding in one call.
    let j = i + 1
    while (j < n && seg.owners[j] === owner && seg.work[j] === undefined) j++
    owner.queued -= j - i
    if (owner.native !== null) sendRun(owner, owner.native, seg, i, j, false)
    i = j
  }
}

/**
 * close(): the socket's sends still waiting leave now, before the handle goes, in their order
 * (DIFFERENCES.md: node:dgram drops them); their callbacks do not run, as with node:dgram.
 */
export function flushOwner(owner: QueueOwner): void {
  if (owner.queued === 0) return
  owner.queued = 0
  const native = owner.native
  for (const seg of waiting) {
    if (seg.count === 1) {
      if (seg.owner0 !== owner) continue
      seg.owner0 = SENT_AT_CLOSE
      if (native === null) continue
      if (seg.work0 !== undefined) seg.work0(true)
      else sendOne(owner, native, seg.data0, seg.ip0, seg.port0, seg.address0, undefined, true)
      continue
    }
    const picked = new Segment()
    for (let i = 0; i < seg.count; i++) {
      if (seg.owners[i] !== owner) continue
      seg.owners[i] = SENT_AT_CLOSE
      if (native === null) continue
      const work = seg.work[i]
      if (work !== undefined) {
        sendPicked(owner, native, picked)
        work(true)
      } else {
        picked.add(owner, seg.data[i], seg.ips[i], seg.ports[i], seg.addresses[i], undefined, undefined)
      }
    }
    if (native !== null) sendPicked(owner, native, picked)
  }
}

function sendPicked(owner: QueueOwner, native: NativeHandle, picked: Segment): void {
  if (picked.count === 0) return
  if (picked.count === 1) sendOne(owner, native, picked.data0, picked.ip0, picked.port0, picked.address0, undefined, true)
  else sendRun(owner, native, picked, 0, picked.count, true)
  picked.clear()
}

/**
 * Sends entries [i, j) of `seg`, all of one socket. Each completes as it would have alone: its
 * callback gets the byte count or its own error on the next tick; one the kernel could not
 * take yet waits in the socket's send queue (`pending`) in order. While `closing`, callbacks
 * are dropped.
 */
function sendRun(owner: QueueOwner, native: NativeHandle, seg: Segment, i: number, j: number, closing: boolean): void {
  const n = j - i
  if (n === 1) {
    sendOne(owner, native, seg.data[i], seg.ips[i], seg.ports[i], seg.addresses[i], seg.callbacks[i], closing)
    return
  }
  const whole = i === 0 && j === seg.count
  const data = whole ? seg.data : seg.data.slice(i, j)
  let sameDestination = true
  const ip0 = seg.ips[i]
  const port0 = seg.ports[i]
  for (let k = i + 1; k < j && sameDestination; k++) sameDestination = seg.ips[k] === ip0 && seg.ports[k] === port0
  const ips = sameDestination ? [ip0] : whole ? seg.ips : seg.ips.slice(i, j)
  const ports = sameDestination ? [port0] : whole ? seg.ports : seg.ports.slice(i, j)
  let outcome: { sent: number; rest: number[]; codes: string[]; ids: number[] }
  try {
    outcome = native.sendBatch(data, ips, ports)
  } catch {
    // Only a handle closed underneath us throws here: nothing was sent.
    return
  }
  let failed = 0
  let queued = 0
  for (let k = 0; k < n; k++) {
    const e = i + k
    const result = k < outcome.sent ? data[k].length : outcome.rest[k - outcome.sent]
    const callback = seg.callbacks[e]
    if (result === QUEUED) {
      owner.pending.set(outcome.ids[queued++], {
        callback: callback && !closing ? AsyncResource.bind(callback) : undefined,
        address: seg.addresses[e],
        port: seg.ports[e],
        emitWithoutCallback: false,
      })
    } else if (result >= 0) {
      if (callback !== undefined && !closing) process.nextTick(callback, null, result)
    } else {
      const code = outcome.codes[failed++]
      if (callback !== undefined && !closing) process.nextTick(callback, exceptionWithHostPort(code, 'send', seg.addresses[e], seg.ports[e]))
    }
  }
}

function sendOne(
  owner: QueueOwner,
  native: NativeHandle,
  data: Buffer,
  ip: string,
  port: number,
  address: unknown,
  callback: SendCallback | undefined,
  closing: boolean,
): void {
  let sent: number
  try {
    sent = native.send(data, ip, port)
  } catch (e) {
    if (callback !== undefined && !closing) process.nextTick(callback, exceptionWithHostPort(nativeCode(e), 'send', address, port))
    return
  }
  const cb = callback !== undefined && !closing ? callback : undefined
  const queued = recordIfQueued(owner.pending, sent, { callback: cb && AsyncResource.bind(cb), address, port, emitWithoutCallback: false })
  if (!queued && cb !== undefined) process.nextTick(cb, null, sent)
}
