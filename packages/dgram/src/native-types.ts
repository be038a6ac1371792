// The contract between the TypeScript facade and the Rust binding (crates/dgramx-node).
//
// The binding is deliberately small and synchronous: every method runs on the JS thread and
// either returns or throws. Node-compatible argument validation, DNS, bind/connect state and
// event timing all live in the facade; the binding only does syscalls.
//
// Errors thrown by the binding are plain `Error`s with:
//   - `code`: an errno name such as 'EADDRINUSE' (system failures), or an `ERR_*` code for
//     failures that have no OS errno (for example an unparsable address or a too-long path);
//   - `message`: for errno failures, the syscall that failed ('bind', 'connect', 'send',
//     'setsockopt', 'getsockname', ...); for ERR_* codes, a human-readable message.

export type NativeKind = 'udp4' | 'udp6' | 'unix_dgram'

/** Events that the binding delivers through the `onEvent` callback given to the constructor. */
export const enum NativeEvent {
  /**
   * A batch of received datagrams: onEvent(1, slab, meta, addresses).
   * - slab: Buffer holding the datagrams' bytes back to back (a fresh buffer per batch).
   * - meta: Int32Array, 4 entries per datagram: [offset in slab, length, port, truncatedSize].
   *   port is 0 for unix_dgram. truncatedSize is 0 when the datagram arrived whole; otherwise
   *   it is the datagram's real size, of which only `length` bytes were kept.
   * - addresses: string[], one per datagram: the sender's IP (UDP) or path ('' when the unix
   *   sender is unnamed; abstract names start with '\0'); or a single string when every
   *   datagram of the batch came from the same sender.
   * - ancillary (5th argument, present only after setPassCredentials(true) or
   *   setReceiveFds(true)): one NativeAncillary per datagram.
   * The facade delivers the first datagram at once; the binding then calls onEvent(5) once per
   * further datagram, each its own callback so that node drains ticks and microtasks between.
   */
  Messages = 1,
  /**
   * Queued sends finished: onEvent(2, ids, results) where ids[i] is the request id a send
   * returned when it was queued and results[i] is its byte count, or an errno name (string)
   * if it failed (syscall 'send'). Match by id, never by position.
   */
  SendsDone = 2,
  /** An asynchronous receive failure: onEvent(3, code, syscall). The socket stays open. */
  Error = 3,
  /**
   * ICMP errors from the socket's error queue (after setRecvErrors(true)):
   * onEvent(4, errors: NativeIcmpError[]).
   */
  Icmp = 4,
  /** Deliver the current batch's next datagram (after Messages). */
  NextMessage = 5,
  /**
   * A batch like Messages that the facade paces itself, one datagram per setImmediate (the
   * thread driver, whose callbacks nest in a scope that drains nothing).
   */
  MessagesPaced = 6,
  /**
   * A whole batch in one callback (after setBatchDelivery(true)): onEvent(7, slab, columns,
   * addresses[, ancillary]) as Messages, but `columns` holds the four fields column by column
   * (all offsets, then all lengths, ports, truncated sizes) and no NextMessage follows.
   */
  Batch = 7,
}

/** Bit flags for NativeSocket.bind. */
export const enum BindFlags {
  ReuseAddr = 1,
  Ipv6Only = 2,
  ReusePort = 4,
}

export interface NativeAddress {
  address: string
  family?: 'IPv4' | 'IPv6'
  port?: number
}

export interface NativeIcmpError {
  /** errno name: ECONNREFUSED (port unreachable), EHOSTUNREACH, EMSGSIZE (fragmentation needed)… */
  code: string
  errno: number
  /** SO_EE_ORIGIN_*: 1 local, 2 ICMP, 3 ICMPv6. */
  origin: number
  icmpType: number
  icmpCode: number
  /** The path MTU reported with EMSGSIZE. */
  mtu?: number
  /** Destination of the datagram that failed. */
  address?: string
  port?: number
  /** Who reported it (a router or the destination host). */
  offender?: string
}

/** Bit flags for setRecvMetadata. */
export const enum MetaFlags {
  PktInfo = 1,
  Ttl = 2,
  Tos = 4,
  Timestamp = 8,
}

/** Ancillary data of one received datagram (unix credentials/fds, or IP metadata). */
export interface NativeAncillary {
  /** Where the datagram was sent to and the interface it arrived on (MetaFlags.PktInfo). */
  localAddress?: string
  interfaceIndex?: number
  /** Received TTL / hop limit (MetaFlags.Ttl). */
  ttl?: number
  /** Received TOS / traffic class byte and its ECN bits (MetaFlags.Tos). */
  tos?: number
  ecn?: number
  /** Kernel receive time (MetaFlags.Timestamp), seconds + nanoseconds since the epoch. */
  timestampSeconds?: number
  timestampNanoseconds?: number
  /** Sender's credentials (Linux, after setPassCredentials(true)). */
  pid?: number
  uid?: number
  gid?: number
  /** Received descriptors (after setReceiveFds(true)); the receiver owns and must close them. */
  fds: number[]
  /** The kernel discarded ancillary data that did not fit (MSG_CTRUNC). */
  truncated: boolean
}

export interface NativeSocket {
  // --- UDP addressing (address is always an IP literal; the facade resolves names) ---
  bind(address: string, port: number, flags: number): void
  connect(address: string, port: number): void
  // --- unix_dgram addressing (raw path bytes; a leading 0 byte means a Linux abstract name;
  //     an empty buffer to bindUnix means autobind) ---
  //     bindUnix applies `mode` without following links and returns the created file's
  //     identity (null for abstract and autobound names); a failure after the bind has
  //     message 'chmod' and leaves the socket bound ---
  bindUnix(path: Buffer, mode?: number): { dev: number; ino: number } | null
  connectUnix(path: Buffer): void
  /** Dissolves the association made by connect()/connectUnix(). */
  disconnect(): void
  /** UDP: { address, family, port }; unix: { address } ('' when unnamed). */
  localAddress(): NativeAddress
  /** Same shapes as localAddress; throws ENOTCONN (syscall 'getpeername') when not connected. */
  remoteAddress(): NativeAddress

  /**
   * Sends one datagram. UDP: address/port give the destination; pass (null, 0) on a connected
   * socket. Returns the byte count when the kernel took it at once, or -id when it was queued
   * as request `id` (>= 1) behind a full socket buffer (its SendsDone names that id).
   * Throws (code, 'send') for immediate failures. The bytes are copied when queued, so the
   * caller may reuse `data` as soon as send() returns.
   */
  send(data: Buffer, address: string | null, port: number): number
  /**
   * unix_dgram: path null means the connected peer. Same return convention as send().
   * `fds` are passed to the peer as SCM_RIGHTS; the caller keeps (and may close) its own copies.
   */
  sendUnix(data: Buffer, path: Buffer | null, fds?: number[] | null): number
  /**
   * Several datagrams to one destination (UDP: address/port, or (null, 0) when connected),
   * in as few syscalls as possible (sendmmsg). With `gso` (UDP, Linux), runs of equal-sized
   * datagrams (the last of a run may be shorter) leave as one GSO send each, cut back into the
   * same datagrams by the kernel; GSO is probed on first use and, where unavailable, sendmmsg is
   * used from then on. What the kernel does not take at once is queued in order exactly like
   * send(); each queued one completes through SendsDone.
   */
  sendMany(datagrams: Buffer[], address: string | null, port: number, gso?: boolean): { sent: number; bytes: number; queued: number[] }
  /**
   * UDP: the sends of one tick, each to its own destination (ips[i] '' for the connected
   * peer; a single entry in ips/ports applies to every datagram), in as few syscalls as
   * possible (sendmmsg). The first `sent` datagrams went out whole; `rest` has one outcome per
   * later datagram: its byte count, -1 when queued (its request id next in `ids`; completes
   * through SendsDone like send()), or -2 when it failed, with its error code next in `codes`.
   * Only throws when closed.
   */
  sendBatch(datagrams: Buffer[], ips: string[], ports: number[]): { sent: number; rest: number[]; codes: string[]; ids: number[] }
  /** UDP: whether GSO (UDP_SEGMENT) works on this socket. */
  gsoSupported(): boolean
  /**
   * UDP GSO: `data` leaves as datagrams of `segment` bytes (the last may be shorter) in one
   * syscall. Returns what sendMany returns: when queued, as separate datagrams, one request
   * id (and one SendsDone result) each.
   */
  sendSegments(data: Buffer, segment: number, address: string | null, port: number): { sent: number; bytes: number; queued: number[] }
  /** Deliver receive batches whole (Batch events) instead of datagram by datagram. */
  setBatchDelivery(on: boolean): void
  /** UDP GRO on receive (Linux): fewer, larger reads; Messages still carry one datagram each. */
  setGro(on: boolean): void
  /** Per-datagram metadata (MetaFlags bits; 0 = off and free). Linux. */
  setRecvMetadata(flags: number): void
  /** IP_TOS / IPV6_TCLASS for all sends (DSCP << 2 | ECN). */
  setTos(tos: number): void
  getTos(): number
  /** SO_BINDTODEVICE ('' to unbind). */
  bindToDevice(name: string): void
  /** Path-MTU discovery: 'want' | 'do' | 'dont' | 'probe'. */
  setMtuDiscover(mode: string): void
  /** Current path MTU to the connected peer. */
  getPathMtu(): number
  /** Report ICMP errors as Icmp events (IP_RECVERR / IPV6_RECVERR). */
  setRecvErrors(on: boolean): void
  /** SO_RCVBUFFORCE (recv = true) / SO_SNDBUFFORCE: past the sysctl limits; needs CAP_NET_ADMIN. */
  setBufferSizeForce(recv: boolean, size: number): void
  /** One datagram with a chosen source address / interface index / TOS. Same return as send(). */
  sendWith(data: Buffer, address: string | null, port: number, source: string | null, interfaceIndex: number | null, tos: number | null): number
  /** unix_dgram (Linux): receive the sender's pid/uid/gid with each datagram (SO_PASSCRED). */
  setPassCredentials(on: boolean): void
  /**
   * unix_dgram: accept descriptors passed with datagrams; otherwise the kernel discards them.
   * Independent of setPassCredentials (turning one off leaves the other on). While only
   * credentials are on, descriptors still arrive in `fds`; the facade closes those.
   */
  setReceiveFds(on: boolean): void

  /** Starts/stops delivering Messages events. */
  /**
   * bind({ fd }): replace the unused descriptor with `fd`, owned from now on. Throws
   * ERR_INVALID_FD_TYPE ("Unsupported fd type: FILE" etc., libuv's handle names) for a
   * descriptor of the wrong kind or family, which then stays the caller's.
   */
  adopt(fd: number, copy?: boolean): void
  recvStart(): void
  recvStop(): void
  /** A receiving socket keeps the event loop alive unless unref()'d. */
  ref(): void
  unref(): void
  /**
   * Closes the descriptor. Idempotent. Returns the request ids of the queued sends dropped
   * (their callbacks should fail with ECANCELED); no SendsDone event is emitted for them.
   */
  close(): number[]

  setBroadcast(on: boolean): void
  getBroadcast(): boolean
  setTtl(ttl: number): void
  getTtl(): number
  setMulticastTtl(ttl: number): void
  getMulticastTtl(): number
  setMulticastLoopback(on: boolean): void
  getMulticastLoopback(): boolean
  /** IPv4: the interface's address; IPv6: a scope/interface name or index as a string. */
  setMulticastInterface(iface: string): void
  addMembership(group: string, iface: string | null): void
  dropMembership(group: string, iface: string | null): void
  addSourceSpecificMembership(source: string, group: string, iface: string | null): void
  dropSourceSpecificMembership(source: string, group: string, iface: string | null): void
  setRecvBufferSize(size: number): void
  getRecvBufferSize(): number
  setSendBufferSize(size: number): void
  getSendBufferSize(): number
  /** Bytes and datagrams waiting in the native send queue. */
  getSendQueueSize(): number
  getSendQueueCount(): number
  /** Bounds the send queue (per destination, then in all); undefined keeps the default. */
  setSendQueueLimit(perDestinationDatagrams?: number, perDestinationBytes?: number, totalDatagrams?: number, totalBytes?: number): void
  /** The OS descriptor, or -1 once closed. */
  fd(): number
}

export interface NativeSocketConstructor {
  /**
   * With `resource`, events are delivered inside an async context created now (like node's
   * UDPWRAP handle), so AsyncLocalStorage and async_hooks see the creation context.
   */
  new (kind: NativeKind, onEvent: (event: NativeEvent, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => void, resource?: object): NativeSocket
}
