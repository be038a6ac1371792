// Errors shaped exactly like node:dgram's, so code that inspects `code`, `name`, `errno`,
// `syscall`, `address`, `port`, `instanceof` or `String(err)` cannot tell the difference.

import { inspect, getSystemErrorMap } from 'node:util'

type ErrorBase = ErrorConstructor | TypeErrorConstructor | RangeErrorConstructor

/**
 * Node's coded errors are instances of the plain base class (`constructor === TypeError`)
 * with an own enumerable `code` and a `toString` that shows the code.
 */
export function codedError(Base: ErrorBase, code: string, message: string): Error & { code: string } {
  const err = new Base(message) as Error & { code: string }
  // The stack's first line carries the code, as node's does; `name` itself stays the class's.
  Object.defineProperty(err, 'name', { value: `${err.name} [${code}]`, configurable: true, writable: true })
  Error.captureStackTrace(err, codedError)
  // Reading the stack formats its header while the coded name is in place.
  void err.stack
  delete (err as { name?: string }).name
  Object.defineProperty(err, 'toString', {
    value(this: Error) {
      return `${this.name} [${code}]: ${this.message}`
    },
    enumerable: false,
    writable: true,
    configurable: true,
  })
  err.code = code
  return err
}

// ---- "Received ..." rendering, as node's internal/errors does it ---------------------------

export function describeReceived(value: unknown): string {
  if (value === null) return 'null'
  if (value === undefined) return 'undefined'
  switch (typeof value) {
    case 'bigint':
      return `type bigint (${value}n)`
    case 'number':
      if (value === 0) return 1 / value === -Infinity ? 'type number (-0)' : 'type number (0)'
      if (Number.isNaN(value)) return 'type number (NaN)'
      return `type number (${value})`
    case 'boolean':
      return `type boolean (${value})`
    case 'symbol':
      return `type symbol (${String(value)})`
    case 'function':
      return `function ${value.name}`
    case 'object': {
      const ctor = (value as { constructor?: { name?: string } }).constructor
      if (ctor && 'name' in ctor) return `an instance of ${ctor.name}`
      return inspect(value, { depth: -1 })
    }
    case 'string': {
      let s = value
      if (s.length > 28) s = `${s.slice(0, 25)}...`
      if (!s.includes("'")) return `type string ('${s}')`
      return `type string (${JSON.stringify(s)})`
    }
    default:
      return `type ${typeof value} (${inspect(value, { colors: false })})`
  }
}

const PRIMITIVE_TYPES = ['string', 'function', 'number', 'object', 'Function', 'Object', 'boolean', 'bigint', 'symbol']
const CLASS_NAME = /^([A-Z][a-z0-9]*)+$/

/** "a", "a or b", "a, b, or c" — node's English lists. */
function listOf(items: string[]): string {
  if (items.length > 2) return `${items.slice(0, -1).join(', ')}, or ${items[items.length - 1]}`
  return items.join(' or ')
}

function invalidArgTypeMessage(name: string, expected: string | string[], actual: unknown): string {
  const wanted = Array.isArray(expected) ? expected : [expected]
  let msg = 'The '
  if (name.endsWith(' argument')) msg += `${name} `
  else msg += `"${name}" ${name.includes('.') ? 'property' : 'argument'} `
  msg += 'must be '
  const types: string[] = []
  const instances: string[] = []
  const other: string[] = []
  for (const w of wanted) {
    if (PRIMITIVE_TYPES.includes(w)) types.push(w.toLowerCase())
    else if (CLASS_NAME.test(w)) instances.push(w)
    else other.push(w)
  }
  if (instances.length > 0) {
    const pos = types.indexOf('object')
    if (pos !== -1) {
      types.splice(pos, 1)
      instances.push('Object')
    }
  }
  const parts: string[] = []
  if (types.length > 0) parts.push(`${types.length > 1 ? 'one of type' : 'of type'} ${listOf(types)}`)
  if (instances.length > 0) parts.push(`an instance of ${listOf(instances)}`)
  if (other.length > 1) parts.push(`one of ${listOf(other)}`)
  else if (other.length === 1) parts.push(`${other[0].toLowerCase() !== other[0] ? 'an ' : ''}${other[0]}`)
  msg += parts.join(' or ')
  return `${msg}. Received ${describeReceived(actual)}`
}

function addNumericalSeparator(val: string): string {
  let res = ''
  let i = val.length
  const start = val[0] === '-' ? 1 : 0
  for (; i >= start + 4; i -= 3) res = `_${val.slice(i - 3, i)}${res}`
  return `${val.slice(0, i)}${res}`
}

// ---- ERR_* constructors ---------------------------------------------------------------------

export type CodedError = Error & { code: string }

export const ERR_INVALID_ARG_TYPE = (name: string, expected: string | string[], actual: unknown): CodedError =>
  codedError(TypeError, 'ERR_INVALID_ARG_TYPE', invalidArgTypeMessage(name, expected, actual))

export const ERR_INVALID_ARG_VALUE = (name: string, value: unknown, reason = 'is invalid'): CodedError => {
  let shown = inspect(value)
  if (shown.length > 128) shown = `${shown.slice(0, 128)}...`
  const kind = name.includes('.') ? 'property' : 'argument'
  return codedError(TypeError, 'ERR_INVALID_ARG_VALUE', `The ${kind} '${name}' ${reason}. Received ${shown}`)
}

export const ERR_OUT_OF_RANGE = (name: string, range: string, input: unknown): CodedError => {
  let received: string
  if (Number.isInteger(input) && Math.abs(input as number) > 2 ** 32) received = addNumericalSeparator(String(input))
  else if (typeof input === 'bigint') {
    received = String(input)
    if (input > 2n ** 32n || input < -(2n ** 32n)) received = addNumericalSeparator(received)
    received += 'n'
  } else received = inspect(input)
  return codedError(RangeError, 'ERR_OUT_OF_RANGE', `The value of "${name}" is out of range. It must be ${range}. Received ${received}`)
}

export const ERR_MISSING_ARGS = (name: string): CodedError =>
  codedError(TypeError, 'ERR_MISSING_ARGS', `The "${name}" argument must be specified`)

export const ERR_SOCKET_BAD_TYPE = (): CodedError =>
  codedError(TypeError, 'ERR_SOCKET_BAD_TYPE', 'Bad socket type specified. Valid types are: udp4, udp6, unix_dgram')

export const ERR_SOCKET_BAD_PORT = (name: string, port: unknown, allowZero: boolean): CodedError =>
  codedError(
    RangeError,
    'ERR_SOCKET_BAD_PORT',
    `${name} should be ${allowZero ? '>=' : '>'} 0 and < 65536. Received ${describeReceived(port)}.`,
  )

export const ERR_BUFFER_OUT_OF_BOUNDS = (name: string): CodedError =>
  codedError(RangeError, 'ERR_BUFFER_OUT_OF_BOUNDS', `"${name}" is outside of buffer bounds`)

export const ERR_SOCKET_ALREADY_BOUND = (): CodedError => codedError(Error, 'ERR_SOCKET_ALREADY_BOUND', 'Socket is already bound')
export const ERR_SOCKET_DGRAM_NOT_RUNNING = (): CodedError => codedError(Error, 'ERR_SOCKET_DGRAM_NOT_RUNNING', 'Not running')
export const ERR_SOCKET_DGRAM_IS_CONNECTED = (): CodedError => codedError(Error, 'ERR_SOCKET_DGRAM_IS_CONNECTED', 'Already connected')
export const ERR_SOCKET_DGRAM_NOT_CONNECTED = (): CodedError => codedError(Error, 'ERR_SOCKET_DGRAM_NOT_CONNECTED', 'Not connected')
export const ERR_SOCKET_BAD_BUFFER_SIZE = (): CodedError =>
  codedError(TypeError, 'ERR_SOCKET_BAD_BUFFER_SIZE', 'Buffer size must be a positive integer')
export const ERR_INVALID_FD_TYPE = (type: string): CodedError => codedError(TypeError, 'ERR_INVALID_FD_TYPE', `Unsupported fd type: ${type}`)

/** Used where node:dgram would have crashed on a feature this platform or build lacks. */
export const ERR_FEATURE_UNAVAILABLE = (what: string): CodedError =>
  codedError(TypeError, 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM', `The feature ${what} is unavailable on the current platform, which is being used to run Node.js`)

/**
 * A send refused because a send queue is at its `sendQueueLimit`. The core decides and writes
 * the text (which bound, how much waits); it is passed on unchanged.
 */
export const ERR_SOCKET_DGRAM_QUEUE_FULL = (message: string): CodedError => codedError(Error, 'ERR_SOCKET_DGRAM_QUEUE_FULL', message)

export const ipBlocked = (ip: string): CodedError => codedError(Error, 'ERR_IP_BLOCKED', `IP(${ip}) is blocked by net.BlockList`)

// ---- system errors ----------------------------------------------------------------------------

let errnoByName: Map<string, number> | undefined
let descriptionByName: Map<string, string> | undefined

function loadErrnoTables(): void {
  errnoByName = new Map()
  descriptionByName = new Map()
  for (const [errno, [name, description]] of getSystemErrorMap()) {
    errnoByName.set(name, errno)
    descriptionByName.set(name, description)
  }
}

/** libuv's (negative) errno for a code, as the running Node reports it. */
export function errnoOf(code: string): number | undefined {
  if (!errnoByName) loadErrnoTables()
  return errnoByName!.get(code)
}

function describeCode(code: string): string {
  if (!descriptionByName) loadErrnoTables()
  return descriptionByName!.get(code) ?? 'unknown error'
}

export interface SystemError extends Error {
  errno: number | undefined
  code: string
  syscall: string
  address?: string
  port?: number
}

/** node's ErrnoException: `syscall CODE`, own errno/code/syscall. */
export function errnoException(code: string, syscall: string): SystemError {
  const err = new Error(`${syscall} ${code}`) as SystemError
  Error.captureStackTrace(err, errnoException)
  err.errno = errnoOf(code)
  err.code = code
  err.syscall = syscall
  return err
}

/**
 * node's ExceptionWithHostPort: `syscall CODE address:port` when the port is positive, else
 * `syscall CODE address` when there is an address. `address` is always an own property (even
 * undefined, as in node), `port` only when truthy.
 */
export function exceptionWithHostPort(code: string, syscall: string, address: unknown, port: unknown): SystemError {
  let details = ''
  if (port && (port as number) > 0) details = ` ${address}:${port}`
  else if (address) details = ` ${address}`
  const err = new Error(`${syscall} ${code}${details}`) as SystemError
  Error.captureStackTrace(err, exceptionWithHostPort)
  err.errno = errnoOf(code)
  err.code = code
  err.syscall = syscall
  err.address = address as string
  if (port) err.port = port as number
  return err
}

/**
 * node's SystemError for ERR_SOCKET_BUFFER_SIZE. Its class is internal to node; ours mirrors
 * its observable shape: name 'SystemError', `info`, and `errno`/`syscall` accessors into it.
 */
class NodeError extends Error {
  declare code: string
  declare info: { errno: number | undefined; code: string; message: string; syscall: string }
  declare errno: number | undefined
  declare syscall: string

  constructor(key: string, prefix: string, context: { errno: number | undefined; code: string; message: string; syscall: string }) {
    super(`${prefix}: ${context.syscall} returned ${context.code} (${context.message})`)
    this.code = key
    Object.defineProperties(this, {
      name: { value: 'SystemError', enumerable: false, writable: true, configurable: true },
      message: { value: this.message, enumerable: false, writable: true, configurable: true },
      info: { value: context, enumerable: true, configurable: true, writable: false },
      errno: {
        get: () => context.errno,
        set: (v: number) => {
          context.errno = v
        },
        enumerable: true,
        configurable: true,
      },
      syscall: {
        get: () => context.syscall,
        set: (v: string) => {
          context.syscall = v
        },
        enumerable: true,
        configurable: true,
      },
    })
  }

  override toString(): string {
    return `${this.name} [${this.code}]: ${this.message}`
  }
}

export function ERR_SOCKET_BUFFER_SIZE(code: string, syscall: string): Error {
  return new NodeError('ERR_SOCKET_BUFFER_SIZE', 'Could not get or set buffer size', {
    errno: errnoOf(code),
    code,
    message: describeCode(code),
    syscall,
  })
}

// ---- errors thrown by the native binding ---------------------------------------------------

/** What the binding throws: `code` is an errno name or an ERR_* code; `message` the syscall. */
export interface NativeFailure {
  code: string
  message: string
}

export function isNativeFailure(e: unknown): e is NativeFailure {
  return e instanceof Error && typeof (e as { code?: unknown }).code === 'string'
}

/** The errno name of a native failure, or rethrows what is not one (a bug, not an OS error). */
export function nativeCode(e: unknown): string {
  if (isNativeFailure(e)) return e.code
  throw e
}

/**
 * A native failure as node would present it from a synchronous call: errno codes become an
 * ErrnoException with node's syscall name; ERR_* codes (no errno) keep their own message.
 */
export function fromNative(e: unknown, syscall: string): Error {
  if (!isNativeFailure(e)) return e as Error
  if (e.code.startsWith('ERR_')) return codedError(TypeError, e.code, e.message)
  return errnoException(e.code, syscall)
}
