// Generators of hostile arguments for every public call. Addresses are drawn only from
// loopback literals, invalid strings, host names and non-strings, so even a call that
// bypassed the socket's lookup could not reach another machine.

import fc from 'fast-check'
import { safeUnixPath } from './safety'

const detached = (): Uint8Array => {
  const ab = new ArrayBuffer(8)
  const view = new Uint8Array(ab)
  structuredClone(ab, { transfer: [ab] })
  // fast-check cannot print a detached view when it reports a counterexample.
  Object.defineProperty(view, fc.toStringMethod, { value: () => 'detached Uint8Array' })
  return view
}

export const anyNumber = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 255, 256, 65535, 65536, -65536, 2 ** 31, -(2 ** 31), 2 ** 32, 2 ** 53, NaN, Infinity, -Infinity, 0.5, 1e-9),
  fc.integer(),
  fc.double(),
)

export const anyString = fc.oneof(
  fc.string(),
  fc.string({ unit: 'grapheme' }),
  fc.constantFrom('', '\0', 'a\0b', '€uro', '𝄞', 'x'.repeat(300), ' 127.0.0.1', '0x7f.1', '65536', '-1', '1e3'),
)

export const address = fc.oneof(
  fc.constantFrom('127.0.0.1', '127.0.0.2', '127.255.255.254', '::1', '::ffff:127.0.0.1', '0:0:0:0:0:0:0:1', 'localhost'),
  fc.constantFrom('127.0.0.1.1', '::1::', '256.0.0.1', 'fe80::1%', '::1%999999', '[::1]', '127.1', ''),
  fc.stringMatching(/^[a-z][a-z0-9-]{0,20}\.invalid$/),
  anyString,
)

export const anyBuffer = fc.oneof(
  fc.uint8Array({ maxLength: 2048 }).map((u) => Buffer.from(u)),
  fc.constantFrom(Buffer.alloc(0), Buffer.alloc(65507), Buffer.alloc(65508), Buffer.alloc(70000)),
  fc.constant(null).map(() => detached()),
  fc.uint8Array({ maxLength: 64 }).map((u) => new DataView(u.buffer)),
  fc.uint8Array({ maxLength: 64 }).map((u) => new Float64Array(u.buffer.slice(0, u.length - (u.length % 8)))),
)

const weird = fc.constantFrom<unknown>(undefined, null, true, false, {}, [], () => {}, Symbol('s'), 10n, new Date(0), Object.create(null))

/** Any argument at all. */
export const anyArg: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: anyNumber },
  { weight: 3, arbitrary: address },
  { weight: 2, arbitrary: anyBuffer },
  { weight: 2, arbitrary: weird },
  { weight: 1, arbitrary: fc.array(fc.oneof(anyBuffer, anyString, anyNumber), { maxLength: 4 }) },
  { weight: 1, arbitrary: fc.record({ port: anyNumber, address, exclusive: fc.boolean() }, { requiredKeys: [] }) },
)

export const unixPath = fc.oneof(
  fc.tuple(anyString, fc.boolean()).map(([s, abs]) => safeUnixPath(s, abs)),
  fc.constantFrom<unknown>(undefined, null, 1, {}, Buffer.from('x'), ''),
)

// Interfaces that are loopback or invalid for the socket's family. (An IPv6 scope naming no
// interface would mean the default one, so none is generated.)
const iface4 = fc.constantFrom<unknown>('127.0.0.1', 'not-an-ip', '1.2.3.4.5', '\0', 'lo', '::1%lo', 42)
const iface6 = fc.constantFrom<unknown>('::1%lo', '::1%1', '::%lo', 'not-an-ip', '127.0.0.1', '\0', 42)

/** Multicast groups and sources: loopback-safe because the interface always is. */
export const group = fc.oneof(
  fc.constantFrom('224.0.0.114', '239.255.0.1', 'ff02::114', 'ff0e::1', '127.0.0.1', '::1', '0.0.0.0', '255.255.255.255'),
  address,
)

export type Call = { method: string; args: unknown[] }

const argsOf = (n: number): fc.Arbitrary<unknown[]> => fc.array(anyArg, { minLength: 0, maxLength: n })

/** One public call on a UDP socket with hostile arguments. */
export const udpCall = (family: 4 | 6): fc.Arbitrary<Call> => {
  const iface = family === 4 ? iface4 : iface6
  return fc.oneof(
    fc.record({ method: fc.constant('bind'), args: argsOf(3) }),
    fc.record({ method: fc.constant('connect'), args: fc.tuple(anyArg, address) }),
    fc.record({ method: fc.constant('send'), args: fc.tuple(anyArg, anyArg, anyArg, anyArg, address) }),
    fc.record({ method: fc.constant('send'), args: fc.tuple(anyBuffer, anyNumber, address) }),
    fc.record({ method: fc.constantFrom('disconnect', 'address', 'remoteAddress', 'ref', 'unref', 'getRecvBufferSize', 'getSendBufferSize', 'getSendQueueSize', 'getSendQueueCount'), args: argsOf(1) }),
    fc.record({ method: fc.constantFrom('setBroadcast', 'setMulticastLoopback', 'setTTL', 'setMulticastTTL', 'setRecvBufferSize', 'setSendBufferSize'), args: argsOf(1) }),
    fc.record({ method: fc.constant('setMulticastInterface'), args: fc.tuple(fc.oneof(iface, fc.constant(undefined))) }),
    fc.record({ method: fc.constantFrom('addMembership', 'dropMembership'), args: fc.tuple(group, iface) }),
    fc.record({ method: fc.constantFrom('addSourceSpecificMembership', 'dropSourceSpecificMembership'), args: fc.tuple(group, group, iface) }),
    fc.record({ method: fc.constant('close'), args: fc.constant<unknown[]>([]) }),
  )
}

/** One public call on a unix_dgram socket. */
export const unixCall: fc.Arbitrary<Call> = fc.oneof(
  fc.record({ method: fc.constant('bind'), args: fc.tuple(unixPath) }),
  fc.record({ method: fc.constant('connect'), args: fc.tuple(unixPath) }),
  fc.record({ method: fc.constant('send'), args: fc.tuple(anyArg, unixPath) }),
  fc.record({ method: fc.constant('send'), args: fc.tuple(anyArg, anyNumber, anyNumber, unixPath) }),
  fc.record({ method: fc.constantFrom('disconnect', 'address', 'remoteAddress', 'ref', 'unref', 'getRecvBufferSize', 'getSendBufferSize', 'getSendQueueSize', 'getSendQueueCount'), args: argsOf(1) }),
  fc.record({ method: fc.constantFrom('setRecvBufferSize', 'setSendBufferSize', 'setBroadcast', 'setTTL'), args: argsOf(1) }),
  fc.record({ method: fc.constant('close'), args: fc.constant<unknown[]>([]) }),
)
