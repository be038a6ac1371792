// unix_dgram addressing. Paths cross to the binding as raw bytes: a string is UTF-8 encoded,
// a Buffer is taken as is, and a leading NUL byte selects a Linux abstract name (kept intact,
// never padded or trimmed). A string starting with '@' is the NOTIFY_SOCKET spelling of an
// abstract name and becomes '\0' + the rest; a Buffer is never rewritten (it is exactly what
// the kernel sees), so Buffer.from('@x') and './@x' name a file. The kernel's names come back
// as strings with abstract names starting with '\0', which round-trip through every call.
// Bad paths are rejected at the call with a clear error rather than surfacing later as an errno.

import fs from 'node:fs'
import nodePath from 'node:path'
import { inspect } from 'node:util'
import { isUint8Array } from 'node:util/types'
import { codedError, ERR_FEATURE_UNAVAILABLE, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_SOCKET_DGRAM_QUEUE_FULL, exceptionWithHostPort, isNativeFailure, nativeCode, type CodedError } from './errors'

export type UnixPath = string | Buffer

/** sizeof(sockaddr_un.sun_path): 108 on Linux, 104 on the BSDs and macOS. */
const SUN_PATH = process.platform === 'linux' ? 108 : 104
/** Abstract names ('\0name') are a Linux feature. */
const HAS_ABSTRACT = process.platform === 'linux' || process.platform === 'android'

export function pathBytes(path: UnixPath): Buffer {
  if (typeof path !== 'string') return path
  if (path.charCodeAt(0) === 0x40 /* '@' */) return Buffer.concat([ABSTRACT_PREFIX, Buffer.from(path.slice(1), 'utf8')])
  return Buffer.from(path, 'utf8')
}

const ABSTRACT_PREFIX = Buffer.from([0])

/** Whether the name is a Linux abstract one ('\0name', or the string '@name'). */
export function isAbstract(path: UnixPath): boolean {
  return typeof path === 'string' ? path.charCodeAt(0) === 0 || path.charCodeAt(0) === 0x40 : path[0] === 0
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
  // isUint8Array looks at the object itself, as node's fs does: a Proxy around a Buffer passes
  // Buffer.isBuffer (instanceof) but is not one, and the native side could not read it.
  if (typeof value !== 'string' && !(isUint8Array(value) && Buffer.isBuffer(value))) throw ERR_INVALID_ARG_TYPE(name, ['string', 'Buffer'], value)
  const bytes = pathBytes(value)
  if (bytes.length === 0) throw ERR_INVALID_ARG_VALUE(name, value, 'must not be empty')
  const abstract = bytes[0] === 0
  if (abstract && !HAS_ABSTRACT) throw ERR_FEATURE_UNAVAILABLE('abstract unix socket names')
  if (!abstract && bytes.includes(0)) {
    throw ERR_INVALID_ARG_VALUE(name, value, 'must not contain NUL bytes (only an abstract name starts with one)')
  }
  // A filesystem path needs room for its terminating NUL; an abstract name is length-delimited.
  const limit = abstract ? SUN_PATH : SUN_PATH - 1
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
  // The core refused to queue past a sendQueueLimit bound; its message says which and how much.
  if (isNativeFailure(e) && e.code === 'ERR_SOCKET_DGRAM_QUEUE_FULL') return ERR_SOCKET_DGRAM_QUEUE_FULL(e.message)
  return exceptionWithHostPort(nativeCode(e), syscall, shown, undefined)
}

// ---- the socket file: stale files at bind, mode, removal at close ------------------------------

/** A socket file this socket created, identified so that close never removes someone else's. */
export interface BoundFile {
  path: UnixPath
  dev: number
  ino: number
}

/**
 * `unlinkExisting` at bind: removes what is at `path` if it is a socket file — any socket file
 * (true), or only one nobody is bound to any more ('stale': `isLive` says whether a datagram
 * socket still answers there). Anything else (a regular file, a directory, a live socket in
 * 'stale' mode) is left alone, so the bind fails with EADDRINUSE as usual.
 */
export function removeExistingSocketFile(path: UnixPath, how: true | 'stale', isLive: () => boolean): void {
  let st: fs.Stats
  try {
    st = fs.lstatSync(path)
  } catch {
    return
  }
  if (!st.isSocket()) return
  if (how === 'stale' && isLive()) return
  try {
    fs.unlinkSync(path)
  } catch {
    // Gone already, or not ours to remove: bind reports what remains.
  }
}

/** `path` resolved against today's working directory (a Buffer stays bytes). */
export function absoluteUnixPath(path: UnixPath): UnixPath {
  if (typeof path === 'string') return nodePath.resolve(path)
  if (path[0] === 0x2f /* '/' */) return path
  return Buffer.concat([Buffer.from(process.cwd() + '/', 'utf8'), path])
}

/** Removes the socket file at close, only if it is still the one this socket created. */
export function unlinkBoundFile(file: BoundFile): void {
  try {
    const st = fs.lstatSync(file.path)
    if (!st.isSocket() || st.dev !== file.dev || st.ino !== file.ino) return
    fs.unlinkSync(file.path)
  } catch {
    // Already removed (or replaced and then removed): nothing of ours is left.
  }
}

/** Closes received descriptors nobody took; a failure (already closed) is harmless. */
export function closeFds(fds: readonly number[]): void {
  for (const fd of fds) {
    try {
      fs.closeSync(fd)
    } catch {
      // Closed by someone else already.
    }
  }
}
