// socketpair(): two unix_dgram sockets connected to each other, unnamed, in one call (like
// Python's socket.socketpair()). Each end adopts one descriptor of socketpair(2) the way
// bind({ fd }) does, so both are listening and connected before the call returns; either can
// be handed to a child process (child_process stdio, then `bind({ fd })` there).

import { closeSync } from 'node:fs'
import { fromNative } from './errors'
import { unixSocketpair } from './native'
import { assertUnixDgramSupported } from './platform'
import { Socket, type UnixSocket } from './socket'
import type { UnixSocketOptions } from './types'

/** createSocket's unix_dgram options for both ends (`type` is implied). */
export type SocketpairOptions = Omit<UnixSocketOptions, 'type' | 'unlinkOnClose'>

export function socketpair(options: SocketpairOptions = {}): [UnixSocket, UnixSocket] {
  assertUnixDgramSupported()
  const a = new Socket({ ...options, type: 'unix_dgram' }) as unknown as UnixSocket
  let b: UnixSocket
  try {
    b = new Socket({ ...options, type: 'unix_dgram' }) as unknown as UnixSocket
  } catch (e) {
    a.close()
    throw e
  }
  let fds: number[]
  try {
    fds = unixSocketpair()
  } catch (e) {
    a.close()
    b.close()
    throw fromNative(e, 'socketpair')
  }
  try {
    a.bind({ fd: fds[0] })
  } catch (e) {
    closeSync(fds[0])
    closeSync(fds[1])
    a.close()
    b.close()
    throw e
  }
  try {
    b.bind({ fd: fds[1] })
  } catch (e) {
    closeSync(fds[1])
    a.close()
    b.close()
    throw e
  }
  return [a, b]
}
