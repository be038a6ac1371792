// Argument checks with node's exact rules and messages (lib/internal/validators.js and lib/dgram.js).

import {
  ERR_BUFFER_OUT_OF_BOUNDS,
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_OUT_OF_RANGE,
  ERR_SOCKET_BAD_PORT,
} from './errors'
import { nodeHas, STRING_ZERO_REFUSED } from './version'

export function validateString(value: unknown, name: string): asserts value is string {
  if (typeof value !== 'string') throw ERR_INVALID_ARG_TYPE(name, 'string', value)
}

export function validateNumber(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value)
}

export function validateFunction(value: unknown, name: string): asserts value is (...args: unknown[]) => unknown {
  if (typeof value !== 'function') throw ERR_INVALID_ARG_TYPE(name, 'Function', value)
}

/** node's validateInteger: a number (ERR_INVALID_ARG_TYPE), whole and within [min, max] (ERR_OUT_OF_RANGE). */
export function validateInteger(value: unknown, name: string, min = Number.MIN_SAFE_INTEGER, max = Number.MAX_SAFE_INTEGER): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value)
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, 'an integer', value)
  if (value < min || value > max) throw ERR_OUT_OF_RANGE(name, `>= ${min} && <= ${max}`, value)
}

export function validateUint32(value: unknown, name: string): asserts value is number {
  if (typeof value !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', value)
  if (!Number.isInteger(value)) throw ERR_OUT_OF_RANGE(name, 'an integer', value)
  if (value < 0 || value > 4_294_967_295) throw ERR_OUT_OF_RANGE(name, '>= 0 && <= 4294967295', value)
}

export function validateAbortSignal(signal: unknown, name: string): void {
  if (signal !== undefined && (signal === null || typeof signal !== 'object' || !('aborted' in signal))) {
    throw ERR_INVALID_ARG_TYPE(name, 'AbortSignal', signal)
  }
}

const rejectsStringZero = nodeHas(STRING_ZERO_REFUSED)

/** node's validatePort(port, 'Port', false) as used by send() and connect(): returns port|0. */
export function validatePort(port: unknown, name = 'Port', allowZero = false): number {
  if (
    (typeof port !== 'number' && typeof port !== 'string') ||
    (typeof port === 'string' && port.trim().length === 0) ||
    +port !== +port >>> 0 ||
    +port > 0xffff ||
    (!allowZero && (port === 0 || (rejectsStringZero && +port === 0)))
  ) {
    throw ERR_SOCKET_BAD_PORT(name, port, allowZero)
  }
  return (port as number) | 0
}

export function isArrayBufferView(value: unknown): value is ArrayBufferView {
  return ArrayBuffer.isView(value)
}

const MESSAGE_TYPES = ['Buffer', 'TypedArray', 'DataView', 'string']

/** A view of `buffer[offset, offset+length)` without copying (strings are encoded first). */
/**
 * node:dgram's `value >>> 0`, except that a value with no number conversion (a Symbol, a
 * BigInt, an object without a primitive) is a coded ERR_INVALID_ARG_TYPE instead of node's
 * uncoded TypeError (DIFFERENCES.md).
 */
function toUint32(value: unknown, name: string): number {
  try {
    return (value as number) >>> 0
  } catch {
    throw ERR_INVALID_ARG_TYPE(name, 'number', value)
  }
}

export function sliceMessage(buffer: unknown, offset: unknown, length: unknown): Buffer {
  let view: ArrayBufferView
  if (typeof buffer === 'string') view = Buffer.from(buffer)
  else if (isArrayBufferView(buffer)) view = buffer
  else throw ERR_INVALID_ARG_TYPE('buffer', MESSAGE_TYPES, buffer)
  const off = toUint32(offset, 'offset')
  const len = toUint32(length, 'length')
  if (off > view.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('offset')
  if (off + len > view.byteLength) throw ERR_BUFFER_OUT_OF_BOUNDS('length')
  return viewOf(view, 'buffer', view.byteOffset + off, len)
}

function asBuffer(item: unknown): Buffer | null {
  if (typeof item === 'string') return Buffer.from(item)
  if (!isArrayBufferView(item)) return null
  if (Buffer.isBuffer(item)) return item
  return viewOf(item, 'buffer', item.byteOffset, item.byteLength)
}

/**
 * A Buffer over `view`'s memory. A view whose ArrayBuffer was transferred away is a coded
 * ERR_INVALID_ARG_VALUE here; node:dgram crashes later with an uncoded TypeError.
 */
function viewOf(view: ArrayBufferView, name: string, offset: number, length: number): Buffer {
  try {
    return Buffer.from(view.buffer, offset, length)
  } catch {
    throw ERR_INVALID_ARG_VALUE(name, view, 'is detached')
  }
}

/** The message's parts as Buffers: one for a single value, one per element for an array. */
export function messageParts(msg: unknown): Buffer[] {
  if (Array.isArray(msg)) {
    const parts: Buffer[] = new Array(msg.length)
    for (let i = 0; i < msg.length; i++) {
      const b = asBuffer(msg[i])
      if (b === null) throw ERR_INVALID_ARG_TYPE('buffer list arguments', MESSAGE_TYPES, msg)
      parts[i] = b
    }
    return parts
  }
  const b = asBuffer(msg)
  if (b === null) throw ERR_INVALID_ARG_TYPE('buffer', MESSAGE_TYPES, msg)
  return [b]
}

/** One datagram's bytes; a single part is passed through without copying. */
export function joinParts(parts: Buffer[]): Buffer {
  if (parts.length === 1) return parts[0]
  if (parts.length === 0) return Buffer.alloc(0)
  return Buffer.concat(parts)
}
