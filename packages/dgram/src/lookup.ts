// Name resolution for UDP, the way node:dgram does it: every bind, connect and unconnected
// send resolves its address through dns.lookup (or the user's `lookup` option) with the
// socket's numeric family. dns.lookup answers IP literals on process.nextTick, which is what
// makes 'listening' fire one tick after bind() and send callbacks run asynchronously.

import dns from 'node:dns'

export type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family?: number) => void
export type LookupFunction = (hostname: string, family: number, callback: LookupCallback) => void

/** The lookup a socket uses: the option when given, else dns.lookup as it is at creation. */
export function chooseLookup(option: unknown): LookupFunction {
  if (option !== undefined) return option as LookupFunction
  return dns.lookup as unknown as LookupFunction
}

/** Resolves `address` (or the loopback of the family when empty) with the socket's lookup. */
export function resolveAddress(lookup: LookupFunction, family: 4 | 6, address: unknown, callback: LookupCallback): void {
  const host = (address || (family === 4 ? '127.0.0.1' : '::1')) as string
  lookup(host, family, callback)
}
