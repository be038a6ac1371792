// The batch receive API (beyond node:dgram): a socket with a 'messages' listener gets each
// native receive batch (one recvmmsg, GRO buffers already split into their datagrams) as one
// MessageBatch: the bytes back to back in one Buffer and the per-datagram fields in columns,
// instead of one 'message' event, one rinfo object and one native callback per datagram.
//
// The binding delivers in whichever form it was last asked for (setBatchDelivery). The facade
// looks at its 'messages' listeners once per batch, re-aims the binding for the next batch,
// and converts the one batch that crossed the switch, so the opt-in takes effect at once and
// the per-datagram path pays one listenerCount per batch, nothing per datagram.

import { applyMetadata } from './metadata'
import type { NativeAncillary } from './native-types'
import type { RemoteInfo, UnixRemoteInfo } from './types'

/**
 * One receive batch (`R`: the rinfo type of the socket it came from). `data` is a fresh Buffer per batch that nothing else reuses or writes:
 * it and every view into it stay valid for as long as you hold them (holding one datagram's
 * view keeps the whole batch's memory alive; copy it to keep a datagram but not its batch).
 */
export class MessageBatch<R extends RemoteInfo | UnixRemoteInfo = RemoteInfo | UnixRemoteInfo> {
  /** How many datagrams. */
  readonly count: number
  /** The datagrams' bytes, back to back. */
  readonly data: Buffer
  /** Where datagram i starts in `data`. */
  readonly offsets: Int32Array
  /** Datagram i's length in `data`. */
  readonly lengths: Int32Array
  /** The sender's port (0 on unix_dgram). */
  readonly ports: Int32Array
  /** 0 when datagram i arrived whole; else its real size, of which `lengths[i]` bytes were kept. */
  readonly truncatedSizes: Int32Array
  /** Datagram i's sender: an IP, or on unix_dgram a path ('' when unnamed). */
  readonly addresses: readonly string[]
  /** 'IPv4' / 'IPv6' for UDP sockets, undefined on unix_dgram. */
  readonly family: 'IPv4' | 'IPv6' | undefined
  /** Per-datagram metadata and credentials/descriptors, when the socket asked for any. */
  readonly #ancillary: readonly (NativeAncillary | undefined)[] | undefined

  /** @internal Built by the socket; `columns` is offsets, lengths, ports, real sizes. */
  constructor(
    data: Buffer,
    columns: Int32Array,
    addresses: readonly string[],
    family: 'IPv4' | 'IPv6' | undefined,
    ancillary: readonly (NativeAncillary | undefined)[] | undefined,
  ) {
    const n = columns.length >> 2
    this.count = n
    this.data = data
    this.offsets = columns.subarray(0, n)
    this.lengths = columns.subarray(n, 2 * n)
    this.ports = columns.subarray(2 * n, 3 * n)
    this.truncatedSizes = columns.subarray(3 * n, 4 * n)
    this.addresses = addresses
    this.family = family
    this.#ancillary = ancillary
  }

  /** Datagram i as a view into `data` (what 'message' would hand over as `msg`). */
  message(i: number): Buffer {
    const offset = this.offsets[i]
    return this.data.subarray(offset, offset + this.lengths[i])
  }

  /**
   * Datagram i's rinfo, exactly as 'message' would give it (metadata, credentials and
   * descriptors included). A fresh object per call; descriptors (`fds`) are yours to close,
   * whether or not you ask for them, as with a 'message' listener.
   */
  rinfo(i: number): R {
    const real = this.truncatedSizes[i]
    const size = real !== 0 ? real : this.lengths[i]
    const family = this.family
    const rinfo: RemoteInfo | UnixRemoteInfo =
      family === undefined ? { address: this.addresses[i], size } : { address: this.addresses[i], family, port: this.ports[i], size }
    if (real !== 0) rinfo.truncated = true
    const anc = this.#ancillary?.[i]
    if (anc === undefined) return rinfo as R
    if (family === undefined) {
      const u = rinfo as UnixRemoteInfo
      if (anc.pid !== undefined) {
        u.pid = anc.pid
        u.uid = anc.uid
        u.gid = anc.gid
      }
      if (anc.fds.length > 0) u.fds = anc.fds
      if (anc.truncated) u.ancillaryTruncated = true
    } else {
      applyMetadata(rinfo as RemoteInfo, anc)
    }
    return rinfo as R
  }
}

/** Rows of four (offset, length, port, real size) to four columns. */
export function toColumns(rows: Int32Array): Int32Array {
  const n = rows.length >> 2
  const out = new Int32Array(rows.length)
  for (let i = 0; i < n; i++) {
    const r = i << 2
    out[i] = rows[r]
    out[n + i] = rows[r + 1]
    out[2 * n + i] = rows[r + 2]
    out[3 * n + i] = rows[r + 3]
  }
  return out
}

/** Columns back to rows of four (a batch delivered as 'message' events after all). */
export function toRows(columns: Int32Array): Int32Array {
  const n = columns.length >> 2
  const out = new Int32Array(columns.length)
  for (let i = 0; i < n; i++) {
    const r = i << 2
    out[r] = columns[i]
    out[r + 1] = columns[n + i]
    out[r + 2] = columns[2 * n + i]
    out[r + 3] = columns[3 * n + i]
  }
  return out
}

/** Keeps only the datagrams `keep` says yes to (the receive block list); null if all stay. */
export function selectColumns(
  columns: Int32Array,
  addresses: readonly string[],
  ancillary: readonly (NativeAncillary | undefined)[] | undefined,
  keep: (i: number) => boolean,
): { columns: Int32Array; addresses: string[]; ancillary: (NativeAncillary | undefined)[] | undefined; dropped: number[] } | null {
  const n = columns.length >> 2
  const kept: number[] = []
  const dropped: number[] = []
  for (let i = 0; i < n; i++) (keep(i) ? kept : dropped).push(i)
  if (dropped.length === 0) return null
  const m = kept.length
  const out = new Int32Array(m * 4)
  for (let j = 0; j < m; j++) {
    const i = kept[j]
    for (let c = 0; c < 4; c++) out[c * m + j] = columns[c * n + i]
  }
  return {
    columns: out,
    addresses: kept.map((i) => addresses[i]),
    ancillary: ancillary && kept.map((i) => ancillary[i]),
    dropped,
  }
}
