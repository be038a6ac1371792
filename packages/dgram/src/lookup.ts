// Name resolution for UDP, the way node:dgram does it: every bind, connect and unconnected
// send resolves its address through dns.lookup (or the user's `lookup` option) with the
// socket's numeric family. dns.lookup answers IP literals on process.nextTick, which is what
// makes 'listening' fire one tick after bind() and send callbacks run asynchronously.

import dns from 'node:dns'
import { isIP } from 'node:net'
import { performance } from 'node:perf_hooks'
import { ERR_INVALID_ARG_TYPE } from './errors'

export type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family?: number) => void
export type LookupFunction = (hostname: string, family: number, callback: LookupCallback) => void

/** The lookup a socket uses: the option when given, else dns.lookup as it is at creation. */
export function chooseLookup(option: unknown): LookupFunction {
  if (option !== undefined) return option as LookupFunction
  const lookup = dns.lookup as unknown as LookupFunction
  // node's dns.lookup refuses a non-string name first thing; Bun's refuses it with an error of
  // another shape, so node's check is made here and the error is node's under every runtime.
  return (hostname, family, callback) => {
    if (hostname && typeof hostname !== 'string') throw ERR_INVALID_ARG_TYPE('hostname', 'string', hostname)
    lookup(hostname, family, callback)
  }
}

/** Resolves `address` (or the loopback of the family when empty) with the socket's lookup. */
export function resolveAddress(lookup: LookupFunction, family: 4 | 6, address: unknown, callback: LookupCallback): void {
  const host = (address || (family === 4 ? '127.0.0.1' : '::1')) as string
  lookup(host, family, callback)
}

/**
 * The hot path's shortcut for the default lookup: an IP literal (or the empty address, which
 * means the family's loopback) is what dns.lookup would answer on the next tick, so the facade
 * skips the call and only keeps the tick. Names return null and go through the lookup.
 */
export function literalAddress(family: 4 | 6, address: unknown): string | null {
  if (!address) return family === 4 ? '127.0.0.1' : '::1'
  if (typeof address === 'string' && isIP(address) !== 0) return address
  return null
}

/** How long a socket reuses a name's answer from the default lookup. */
export const NAME_CACHE_MS = 1000
/** Names remembered per socket (the oldest entry goes first when full). */
const NAME_CACHE_SIZE = 64

/** Per-socket answers of the default dns.lookup for names, kept for NAME_CACHE_MS. */
export class NameCache {
  private readonly entries = new Map<string, { ip: string; until: number }>()

  get(name: string): string | null {
    const e = this.entries.get(name)
    if (e === undefined) return null
    if (performance.now() > e.until) {
      this.entries.delete(name)
      return null
    }
    return e.ip
  }

  set(name: string, ip: string): void {
    if (this.entries.size >= NAME_CACHE_SIZE && !this.entries.has(name)) {
      this.entries.delete(this.entries.keys().next().value as string)
    }
    this.entries.set(name, { ip, until: performance.now() + NAME_CACHE_MS })
  }
}
