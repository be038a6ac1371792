// unix_dgram addressing. Paths cross to the binding as raw bytes: a string is UTF-8 encoded,
// a Buffer is taken as is, and a leading NUL byte selects a Linux abstract name (kept intact,
// never padded or trimmed). Bad paths are rejected at the call with a clear error rather than
// surfacing later as an errno.

import { inspect } from 'node:util'
import { codedError, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, exceptionWithHostPort, isNativeFailure, nativeCode, type CodedError } from './errors'

export type UnixPath = string | Buffer

/** sizeof(sockaddr_un.sun_path): 108 on Linux, 104 on the BSDs and macOS. */
const SUN_PATH = process.platform === 'linux' ? 108 : 104

export function pathBytes(path: UnixPath): Buffer {
  return typeof path === 'string' ? Buffer.from(path, 'utf8') : path
}

/** How a path appears in error messages, `address` fields and rinfo. */
export function pathString(path: UnixPath): string {
  return typeof path === 'string' ? path : path.toString('utf8')
}

function pathTooLong(path: UnixPath, bytes: number, limit: number): CodedError {
  return codedError(
    RangeError,
    'ERR_SOCKET_PATH_TOO_LONG',
    `The unix socket path ${inspect(pathString(path))} is ${bytes} bytes long; the limit on this platform is ${limit}`,
  )
}

/** A destination or bind path: a non-empty string or Buffer that fits in sun_path. */
export function validateUnixDestination(value: unknown, name: string): asserts value is UnixPath {
  if (typeof value !== 'string' && !Buffer.isBuffer(value)) throw ERR_INVALID_ARG_TYPE(name, ['string', 'Buffer'], value)
  const bytes = pathBytes(value)
  if (bytes.length === 0) throw ERR_INVALID_ARG_VALUE(name, value, 'must not be empty')
  const isAbstract = bytes[0] === 0
  if (!isAbstract && bytes.includes(0)) {
    throw ERR_INVALID_ARG_VALUE(name, value, 'must not contain NUL bytes (only an abstract name starts with one)')
  }
  // A filesystem path needs room for its terminating NUL; an abstract name is length-delimited.
  const limit = isAbstract ? SUN_PATH : SUN_PATH - 1
  if (bytes.length > limit) throw pathTooLong(value, bytes.length, limit)
}

/** A failure from a unix_dgram syscall, with the path as `address` (no port). */
export function unixSocketError(e: unknown, syscall: string, path: UnixPath | null | unknown): Error {
  const shown = typeof path === 'string' || Buffer.isBuffer(path) ? pathString(path) : undefined
  if (isNativeFailure(e) && e.code === 'ERR_SOCKET_PATH_TOO_LONG' && shown !== undefined) {
    const len = pathBytes(path as UnixPath).length
    return pathTooLong(path as UnixPath, len, len - 1)
  }
  if (isNativeFailure(e) && e.code === 'ERR_INVALID_ARG_VALUE') return ERR_INVALID_ARG_VALUE('path', path, 'is not a valid unix socket address')
  return exceptionWithHostPort(nativeCode(e), syscall, shown, undefined)
}
