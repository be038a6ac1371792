// Keeps property-based tests on this machine: whatever address a generated call names, the
// socket's `lookup` maps it to loopback before anything is sent, joined or bound, and unix
// paths always land in a private temp directory.

import dns from 'node:dns'
import fs from 'node:fs'
import net from 'node:net'
import os from 'node:os'
import path from 'node:path'

export const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-rel-'))

export function removeTmp(): void {
  fs.rmSync(tmp, { recursive: true, force: true })
}

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void

/** A `lookup` option that never resolves to anything but loopback (or fails like DNS does). */
export function loopbackLookup(host: string, options: unknown, callback: LookupCallback): void {
  // A non-string host gets dns.lookup's own synchronous argument error (no query is made).
  if (typeof host !== 'string') return void dns.lookup(host as never, options as never, callback as never)
  const family = typeof options === 'number' ? options : (options as { family?: number })?.family
  const kind = net.isIP(String(host))
  let address: string
  if (kind === 4) address = String(host).startsWith('127.') ? String(host) : '127.0.0.2'
  else if (kind === 6) address = '::1'
  else if (String(host).length % 3 === 0) {
    const err = Object.assign(new Error(`getaddrinfo ENOTFOUND ${String(host)}`), { code: 'ENOTFOUND', errno: -3008, syscall: 'getaddrinfo', hostname: String(host) })
    process.nextTick(callback, err, '', 0)
    return
  } else address = family === 6 ? '::1' : '127.0.0.1'
  process.nextTick(callback, null, address, net.isIP(address))
}

/** Makes any generated path a path inside `tmp` (or an abstract name). */
export function safeUnixPath(raw: string, abstract: boolean): string {
  const cleaned = raw.replace(/\.\./g, '_').replace(/\//g, '_')
  return abstract ? `\0dgramx-rel-${process.pid}-${cleaned}` : path.join(tmp, cleaned)
}
