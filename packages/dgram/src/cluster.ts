// Binding in a cluster worker, as node:dgram does: a non-exclusive bind asks the primary for
// the socket (cluster._getServer), so every worker binding the same address and port shares
// one socket instead of failing with EADDRINUSE. The primary answers with one of node's own
// UDP handles; we take a duplicate of its descriptor and keep the handle until our socket
// closes, because closing it tells the primary this worker let go of the shared socket.
import cluster from 'node:cluster'
import { getSystemErrorName } from 'node:util'

/** What node's cluster hands a worker: a libuv UDP handle (close() patched by the cluster). */
export interface SharedHandle {
  readonly fd: number
  close(callback?: () => void): void
}

// libuv's uv_udp_flags, which the primary passes to its bind (reusePort never gets here: it
// makes the bind exclusive, as in node:dgram).
const UV_UDP_IPV6ONLY = 1
const UV_UDP_REUSEADDR = 4

/**
 * Whether this bind goes through the primary. Not on Windows, where a worker gets no
 * descriptor it could share with us (node's handle.fd is -1 there): a worker binds itself.
 */
export function sharesThroughPrimary(exclusive: boolean): boolean {
  return !exclusive && cluster.isWorker === true && process.platform !== 'win32'
}

export function clusterFlags(reuseAddr: boolean, ipv6Only: boolean): number {
  return (reuseAddr ? UV_UDP_REUSEADDR : 0) | (ipv6Only ? UV_UDP_IPV6ONLY : 0)
}

type GetServer = (
  obj: unknown,
  options: { address: string; port: number; addressType: string; fd: number; flags: number },
  callback: (errno: number | undefined, handle: SharedHandle | null) => void,
) => void

/**
 * Asks the primary for the socket; `callback` gets a libuv error code name and number on
 * failure. Looked up on each call, as node:dgram does (tests and tools replace it).
 */
export function requestShared(
  socket: unknown,
  options: { address: string; port: number; addressType: string; flags: number },
  callback: (err: { code: string; errno: number } | null, handle: SharedHandle | null) => void,
): void {
  const getServer = (cluster as unknown as { _getServer: GetServer })._getServer
  getServer.call(cluster, socket, { ...options, fd: -1 }, (errno, handle) => {
    if (errno) callback({ code: getSystemErrorName(errno), errno }, null)
    else callback(null, handle)
  })
}
