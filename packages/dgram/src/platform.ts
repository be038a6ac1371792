// Platform limits the facade checks before it asks the binding for a socket.

import { codedError } from './errors'

/**
 * Windows has no Unix datagram sockets (AF_UNIX there is SOCK_STREAM only), so
 * `createSocket('unix_dgram')` fails up front with its own code; udp4 and udp6 are unaffected.
 */
export function assertUnixDgramSupported(platform: string = process.platform): void {
  if (platform === 'win32') {
    throw codedError(
      Error,
      'ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED',
      "unix_dgram sockets are not available on Windows (it has no Unix datagram sockets); use 'udp4' or 'udp6' there",
    )
  }
}
