// Per-datagram metadata (beyond node:dgram): which ancillary data the kernel attaches to each
// received datagram, and how it lands on `rinfo`. Off by default; when off the binding passes
// no ancillary array at all, so the receive path costs nothing extra.

import type { NativeAncillary } from './native-types'

/** What to receive with each datagram. `true` for a field turns its socket option on. */
export interface RecvMetadataOptions {
  /** The datagram's destination address and arrival interface: `rinfo.localAddress`, `rinfo.interfaceIndex` (IP_PKTINFO / IPV6_RECVPKTINFO). */
  pktinfo?: boolean | undefined
  /** The received TTL / IPv6 hop limit: `rinfo.ttl` (IP_RECVTTL / IPV6_RECVHOPLIMIT). */
  ttl?: boolean | undefined
  /** The TOS / traffic-class byte and its ECN bits: `rinfo.tos`, `rinfo.ecn` (IP_RECVTOS / IPV6_RECVTCLASS). */
  tos?: boolean | undefined
  /** The kernel's receive time, nanoseconds since the epoch: `rinfo.timestamp` (SO_TIMESTAMPNS). */
  timestamp?: boolean | undefined
}

/** The fields metadata adds to `rinfo` (each only when asked for and reported by the kernel). */
export interface DatagramMetadata {
  /** Where the datagram was sent to: the address a reply should come from. */
  localAddress?: string
  /** Index of the interface it arrived on (see os.networkInterfaces() / `ip link`). */
  interfaceIndex?: number
  /** TTL (IPv4) or hop limit (IPv6) as received. */
  ttl?: number
  /** The whole TOS / traffic-class byte: DSCP in the upper six bits, ECN in the lower two. */
  tos?: number
  /** ECN codepoint: 0 Not-ECT, 1 ECT(1), 2 ECT(0), 3 CE. */
  ecn?: number
  /** Kernel receive time in nanoseconds since the Unix epoch. */
  timestamp?: bigint
  /** The kernel dropped ancillary data that did not fit (MSG_CTRUNC). */
  ancillaryTruncated?: boolean
}

// Bit flags shared with the binding (MetaFlags in native-types.ts).
const PKTINFO = 1
const TTL = 2
const TOS = 4
const TIMESTAMP = 8

/** `true` means everything, `false` nothing; an object picks fields. */
export function metadataFlags(options: RecvMetadataOptions | boolean): number {
  if (options === true) return PKTINFO | TTL | TOS | TIMESTAMP
  if (options === false) return 0
  let flags = 0
  if (options.pktinfo) flags |= PKTINFO
  if (options.ttl) flags |= TTL
  if (options.tos) flags |= TOS
  if (options.timestamp) flags |= TIMESTAMP
  return flags
}

const BILLION = BigInt(1_000_000_000)

/** Copies one datagram's metadata onto its rinfo. Only fields the kernel reported are set. */
export function applyMetadata(rinfo: DatagramMetadata, anc: NativeAncillary | undefined): void {
  if (anc === undefined) return
  if (anc.localAddress !== undefined) rinfo.localAddress = anc.localAddress
  if (anc.interfaceIndex !== undefined) rinfo.interfaceIndex = anc.interfaceIndex
  if (anc.ttl !== undefined) rinfo.ttl = anc.ttl
  if (anc.tos !== undefined) {
    rinfo.tos = anc.tos
    rinfo.ecn = anc.ecn ?? anc.tos & 3
  }
  if (anc.timestampSeconds !== undefined) {
    rinfo.timestamp = BigInt(anc.timestampSeconds) * BILLION + BigInt(anc.timestampNanoseconds ?? 0)
  }
  if (anc.truncated) rinfo.ancillaryTruncated = true
}
