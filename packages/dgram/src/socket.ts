// The Socket: node:dgram's state machine and data path over the native binding.
//
// The binding only performs syscalls. Everything node:dgram users can observe — argument
// validation, DNS, the bind/connect states, the pre-bind queue, which tick an event fires on,
// where an error goes and what it looks like — is decided here, following
// node:dgram (lib/dgram.js of Node 20 and 24; DIFFERENCES.md lists where we part). Read top to bottom: construction, bind, connect, send, receive,
// close, then addressing, options and lifetime.

import { EventEmitter } from 'node:events'
import { AsyncResource } from 'node:async_hooks'
import { BlockList, isIP } from 'node:net'
import diagnosticsChannel from 'node:diagnostics_channel'

import {
  ERR_INVALID_ARG_TYPE,
  ERR_INVALID_ARG_VALUE,
  ERR_MISSING_ARGS,
  ERR_SOCKET_ALREADY_BOUND,
  ERR_SOCKET_BAD_BUFFER_SIZE,
  ERR_SOCKET_BAD_TYPE,
  ERR_SOCKET_BUFFER_SIZE,
  ERR_SOCKET_DGRAM_IS_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_CONNECTED,
  ERR_SOCKET_DGRAM_NOT_RUNNING,
  ERR_INVALID_FD_TYPE,
  ERR_FEATURE_UNAVAILABLE,
  ERR_OUT_OF_RANGE,
  errnoException,
  exceptionWithHostPort,
  fromNative,
  ipBlocked,
  isNativeFailure,
  nativeCode,
  type SystemError,
} from './errors'
import { recordIfQueued, takeCancelled, takeFinished, type PendingSend, type PendingSends } from './send'
import { NameCache, chooseLookup, literalAddress, resolveAddress, type LookupFunction } from './lookup'
import { NativeSocket } from './native'
import { MessageBatch, selectColumns, toColumns, toRows } from './batch'
import type { NativeAncillary, NativeIcmpError, NativeSocket as NativeHandle, NativeKind } from './native-types'
import * as advanced from './advanced'
import type { MtuDiscoverMode, SendWithOptions } from './advanced'
import { applyMetadata, type RecvMetadataOptions } from './metadata'
import { toIcmpReport, type IcmpReport } from './icmp'
import type {
  AddressInfo,
  BindOptions,
  Datagram,
  NonSharedBuffer,
  SendMany,
  MessageListener,
  RemoteInfo,
  SendCallback,
  SendMessage,
  SendQueueLimit,
  SocketOptions,
  SocketType,
  UnixAddressInfo,
  UnixBindOptions,
  UnixMessageListener,
  UnixRemoteInfo,
  UnixSocketOptions,
} from './types'
import {
  closeFds,
  isAbstract,
  removeExistingSocketFile,
  absoluteUnixPath,
  unixSocketError,
  unlinkBoundFile,
  validateUnixDestination,
  type BoundFile,
  type UnixPath,
  pathBytes,
  pathString,
} from './unix'
import {
  joinParts,
  messageParts,
  sliceMessage,
  validateAbortSignal,
  validateFunction,
  validateNumber,
  validatePort,
  validateString,
  validateUint32,
} from './validate'
import { BIND_CLEANUP_ON_ERROR_MONITOR, nodeHas, SYNC_API } from './version'
import { assertUnixDgramSupported } from './platform'
import { enqueueSend, enqueueWork, flushOwner, seal } from './tick-queue'
import { defineDep0112 } from './dep0112'
import * as flow from './flow'
import { clusterFlags, requestShared, sharesThroughPrimary, type SharedHandle } from './cluster'

const enum BindState {
  Unbound,
  Binding,
  Bound,
}

const enum ConnectState {
  Disconnected,
  Connecting,
  Connected,
}

// Numbers shared with the binding (see native-types.ts); spelled out so that the compiled
// facade does not depend on how a const enum from another file is emitted.
const EV_MESSAGES = 1
const EV_SENDS_DONE = 2
const EV_ERROR = 3
const EV_ICMP = 4
const EV_NEXT_MESSAGE = 5
const EV_MESSAGES_PACED = 6
const EV_BATCH = 7
const BIND_REUSE_ADDR = 1
const BIND_IPV6_ONLY = 2
const BIND_REUSE_PORT = 4

/** What only unix_dgram sockets track. */
interface UnixState {
  /** Remove the bound socket file at close (createSocket or bind option). */
  unlinkOnClose: boolean
  /** The socket file this socket created, once bound to a path. */
  boundFile: BoundFile | undefined
  /** Received descriptors are handed out (otherwise any that arrive are closed at once). */
  receiveFds: boolean
}

interface State {
  native: NativeHandle | null
  /** In a cluster worker: the primary's handle our descriptor duplicates, and its release. */
  shared: { handle: SharedHandle; release: (this: SharedHandle) => void } | undefined
  /** Present on unix_dgram sockets only. */
  unix: UnixState | undefined
  kind: SocketType
  family: 4 | 6
  bindState: BindState
  connectState: ConnectState
  /** Work waiting for 'listening' (node's pre-bind queue). */
  queue: (() => void)[] | undefined
  /** unix_dgram: what each queued call reports when the bind fails and the queue is dropped. */
  queueDrops: ((err: Error) => void)[] | undefined
  /** Native batches being delivered datagram by datagram (deliverNext), oldest first. */
  inboxes: Inbox[]
  receiving: boolean
  /**
   * Whether node would have an OS socket by now. libuv creates the descriptor lazily at the
   * first bind attempt (or the membership calls' internal bind); before that, option setters
   * and address() fail with EBADF. Our descriptor exists from the start, so we track it here.
   */
  hasFd: boolean
  reuseAddr: boolean
  /** createSocket's `reuseAddr` as given (what node:dgram's `_reuseAddr` reads). */
  reuseAddrOption: unknown
  ipv6Only: boolean
  reusePort: boolean
  recvBufferSize: number | undefined
  sendBufferSize: number | undefined
  lookup: LookupFunction
  /** No `lookup` option: IP literals skip dns.lookup and names are cached (see send()). */
  defaultLookup: boolean
  names: NameCache | undefined
  /** createSocket({ gso: true }): sendMany() uses UDP GSO where the kernel can. */
  gso: boolean
  pending: PendingSends
  /** This socket's unconnected UDP sends waiting for their turn (see tick-queue.ts). */
  queued: number
  receiveBlockList: BlockList | undefined
  sendBlockList: BlockList | undefined
  /**
   * The event callback handed to the binding. The binding holds it only weakly while the
   * socket is idle, so the socket must keep it alive or a GC could silently cut delivery.
   */
  onEvent: (event: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown) => void
}

/** For tests and diagnostics: `socket[kNative]` is the binding's handle (null once closed). */
export const kNative: unique symbol = Symbol('dgramx.native')
const kState = Symbol('dgramx.state')

// Newer node moved the bind callback's cleanup to errorMonitor, so bind errors are no longer
// swallowed when the only listener is that cleanup.
const bindCleanupEvent: string | symbol = nodeHas(BIND_CLEANUP_ON_ERROR_MONITOR) ? EventEmitter.errorMonitor : 'error'
// Bun's N-API accepts napi_async_init but its callbacks do not enter that context, so
// AsyncLocalStorage would see none in 'message': there the context is entered from JavaScript.
const contextFromJs = typeof (process.versions as Record<string, string | undefined>).bun === 'string'
// node:dgram 22.13+ takes net.BlockList options; on older Node we honour them all the same
// (like reusePort), recognising a BlockList by class where BlockList.isBlockList is missing.
const isBlockList: (value: unknown) => boolean =
  (BlockList as unknown as { isBlockList?: (value: unknown) => boolean }).isBlockList ?? ((value) => value instanceof BlockList)
const udpSocketChannel = diagnosticsChannel.channel('udp.socket')

/** EventEmitter's constructor options, however this @types/node version names them. */
type EventEmitterOptions = ConstructorParameters<typeof EventEmitter>[0]

/** The socket's private state (kept off the public type so sockets stay assignable). */
function stateOf(socket: Socket): State {
  return (socket as unknown as { [kState]: State })[kState]
}

export class Socket extends EventEmitter {
  /** Optional in the type only: @types/node's Socket has no such member. */
  declare readonly [kNative]?: NativeHandle | null
  /**
   * Beyond node:dgram; optional in the type only, so that node:dgram sockets stay assignable
   * to this type. createSocket() returns a `BatchSocket`, on which it is always present.
   */
  declare sendMany?: SendMany

  constructor(type: SocketType | SocketOptions | UnixSocketOptions, listener?: MessageListener | UnixMessageListener)
  /**
   * @types/node's signature (EventEmitter's), declared so that the class, and with it the
   * module, is assignable to node:dgram's. Without a socket type it throws
   * ERR_SOCKET_BAD_TYPE, as node:dgram does.
   */
  constructor(options?: EventEmitterOptions)
  constructor(typeArg?: SocketType | SocketOptions | UnixSocketOptions | EventEmitterOptions, listener?: MessageListener | UnixMessageListener) {
    super()
    const type = typeArg as SocketType | SocketOptions | UnixSocketOptions
    // Read as the union of every option; a unix socket refuses the UDP-only ones below.
    let options: (Omit<SocketOptions, 'type'> & Omit<UnixSocketOptions, 'type'> & { type?: unknown }) | undefined
    let kind: unknown = type
    let lookupOption: unknown
    let recvBufferSize: number | undefined
    let sendBufferSize: number | undefined
    let receiveBlockList: BlockList | undefined
    let sendBlockList: BlockList | undefined
    if (type !== null && typeof type === 'object') {
      options = type
      kind = options.type
      lookupOption = options.lookup
      if (options.recvBufferSize) validateUint32(options.recvBufferSize, 'options.recvBufferSize')
      if (options.sendBufferSize) validateUint32(options.sendBufferSize, 'options.sendBufferSize')
      recvBufferSize = options.recvBufferSize
      sendBufferSize = options.sendBufferSize
      receiveBlockList = checkBlockList(options.receiveBlockList, 'options.receiveBlockList')
      sendBlockList = checkBlockList(options.sendBlockList, 'options.sendBlockList')
    }
    if (lookupOption !== undefined) validateFunction(lookupOption, 'lookup')
    if (kind !== 'udp4' && kind !== 'udp6' && kind !== 'unix_dgram') throw ERR_SOCKET_BAD_TYPE()
    if (kind === 'unix_dgram') {
      assertUnixDgramSupported()
      if (options !== undefined) advanced.rejectUdpOnlyOptions(options)
    }
    const signal = options?.signal
    if (signal !== undefined) validateAbortSignal(signal, 'options.signal')

    // Read once, before the descriptor exists: a bad value throws with nothing to close.
    const limits = kind === 'unix_dgram' ? queueLimit((options as UnixSocketOptions | undefined)?.sendQueueLimit) : undefined
    // 'message' runs in the async context of the socket's creation, as with node:dgram: the
    // binding makes that context (napi_async_init on `resource`, named UDPWRAP) and enters it
    // natively for every event, which costs less than entering it from JavaScript.
    const resource = {}
    const scope = contextFromJs ? new AsyncResource('UDPWRAP') : undefined
    const onEvent = scope
      ? (event: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void => {
          scope.runInAsyncScope(dispatchNativeEvent, undefined, this, event, a, b, c, d)
        }
      : (event: number, a?: unknown, b?: unknown, c?: unknown, d?: unknown): void => {
          dispatchNativeEvent(this, event, a, b, c, d)
        }
    // The descriptor and every option that needs it; run again later when it is deferred.
    const open = (): NativeHandle => {
      let fresh: NativeHandle
      try {
        fresh = new NativeSocket(kind as NativeKind, onEvent, resource)
      } catch (e) {
        throw new DescriptorUnavailable(e)
      }
      try {
        advanced.applyAdvancedOptions(fresh, kind as SocketType, options)
        // Opt-in receive offload: the kernel coalesces, the binding splits back into datagrams.
        // Where UDP_GRO is unavailable the socket simply receives datagram by datagram.
        if (options?.gro && kind !== 'unix_dgram') {
          try {
            fresh.setGro(true)
          } catch {
            // Not supported here (non-Linux or an old kernel): fall back silently.
          }
        }
        if (kind === 'unix_dgram') configureUnix(fresh, options as UnixSocketOptions | undefined, limits!)
      } catch (e) {
        fresh.close()
        throw e
      }
      return fresh
    }
    let native: NativeHandle
    try {
      native = open()
    } catch (e) {
      if (!(e instanceof DescriptorUnavailable)) throw e
      // node:dgram creates the descriptor at bind, so running out of descriptors (or an address
      // family the kernel lacks) is a 'bind' error event there, not a throw from createSocket().
      const { cause } = e
      if (!isNativeFailure(cause) || cause.code.startsWith('ERR_')) throw fromNative(cause, 'socket')
      native = deferredNative(open)
    }

    // node:dgram sets it too (its typings omit it).
    ;(this as unknown as { type: SocketType }).type = kind as SocketType
    if (typeof listener === 'function') this.on('message', listener)
    let unix: UnixState | undefined
    if (kind === 'unix_dgram') {
      try {
        unix = unixState(options as UnixSocketOptions | undefined)
      } catch (e) {
        native.close()
        throw e
      }
    } else if ((options as UnixSocketOptions | undefined)?.sendQueueLimit !== undefined) {
      // A UDP send only waits when the kernel's own buffer is full, which loopback and most
      // links never make it; rather than accept a bound that would silently never apply, say so.
      native.close()
      throw ERR_INVALID_ARG_VALUE('options.sendQueueLimit', (options as UnixSocketOptions).sendQueueLimit, 'is only supported on unix_dgram sockets')
    }
    Object.defineProperty(this, kState, {
      value: {
        native,
        shared: undefined,
        unix,
        kind,
        family: kind === 'udp6' ? 6 : 4,
        bindState: BindState.Unbound,
        connectState: ConnectState.Disconnected,
        queue: undefined,
        queueDrops: undefined,
        inboxes: [],
        receiving: false,
        // unix_dgram has no node:dgram precedent to mimic: its options work from the start.
        hasFd: kind === 'unix_dgram',
        reuseAddr: !!options?.reuseAddr,
        reuseAddrOption: options?.reuseAddr,
        ipv6Only: !!options?.ipv6Only,
        reusePort: !!options?.reusePort,
        recvBufferSize,
        sendBufferSize,
        lookup: chooseLookup(lookupOption),
        defaultLookup: lookupOption === undefined,
        names: undefined,
        gso: !!options?.gso && kind !== 'unix_dgram',
        pending: new Map(),
        queued: 0,
        receiveBlockList,
        sendBlockList,
        onEvent,
      } satisfies State,
      enumerable: false,
    })

    if (signal !== undefined) {
      const onAborted = (): void => {
        if (stateOf(this).native !== null) this.close()
      }
      if (signal.aborted) onAborted()
      else {
        signal.addEventListener('abort', onAborted, { once: true })
        this.once('close', () => signal.removeEventListener('abort', onAborted))
      }
    }
    if (udpSocketChannel.hasSubscribers) udpSocketChannel.publish({ socket: this })
  }

  // ---- bind -----------------------------------------------------------------------------------

  bind(port?: number, address?: string, callback?: () => void): this
  bind(port?: number, callback?: () => void): this
  bind(callback?: () => void): this
  bind(options: BindOptions, callback?: () => void): this
  bind(port_?: unknown, address_?: unknown, ..._rest: unknown[]): this {
    const state = stateOf(this)
    healthCheck(state)
    if (state.bindState !== BindState.Unbound) throw ERR_SOCKET_ALREADY_BOUND()

    const fd = adoptableFd(port_)
    if (fd !== null) {
      adoptFd(this, fd, arguments)
      return this
    }

    if (state.kind === 'unix_dgram') {
      // Our own API, so the path is checked before the state changes.
      const request = unixBindRequest(port_)
      state.bindState = BindState.Binding
      addBindCallback(this, arguments)
      seal()
      process.nextTick(bindUnixNow, this, request)
      return this
    }

    // node:dgram converts the port only inside its lookup callback, so a Symbol or BigInt port
    // becomes an uncaught TypeError later; we reject it at the call (DIFFERENCES.md).
    const rawPort = port_ !== null && typeof port_ === 'object' ? (port_ as BindOptions).port : port_
    try {
      toPort16(rawPort)
    } catch {
      throw ERR_INVALID_ARG_TYPE('port', ['number', 'string'], rawPort)
    }

    state.bindState = BindState.Binding
    const removeBindCallback = addBindCallback(this, arguments)

    let port = port_
    let address: unknown
    let exclusive = false
    if (port !== null && typeof port === 'object') {
      const opts = port as BindOptions
      address = opts.address || ''
      exclusive = !!opts.exclusive
      port = opts.port
    } else {
      address = typeof address_ === 'function' ? '' : address_
    }
    if (!address) address = state.family === 4 ? '0.0.0.0' : '::'
    // Sends made after this bind() leave after it is bound, as with node:dgram.
    seal()
    try {
      resolveAddress(state.lookup, state.family, address, (err, ip) => bindResolved(this, err, ip, port, exclusive))
    } catch (e) {
      // node:dgram stays "binding" for good after a lookup that throws (a non-string address),
      // so close() would wait forever and leak the socket; we roll back (DIFFERENCES.md).
      state.bindState = BindState.Unbound
      removeBindCallback()
      throw e
    }
    return this
  }

  // ---- connect --------------------------------------------------------------------------------

  connect(port: number, address?: string, callback?: () => void): void
  connect(port: number, callback: () => void): void
  connect(port: unknown, address?: unknown, callback?: unknown): void {
    const state = stateOf(this)
    if (state.kind === 'unix_dgram') {
      connectUnix(this, port, address)
      return
    }
    const validPort = validatePort(port)
    if (typeof address === 'function') {
      callback = address
      address = ''
    } else if (address === undefined) {
      address = ''
    }
    validateString(address, 'address')
    if (state.connectState !== ConnectState.Disconnected) throw ERR_SOCKET_DGRAM_IS_CONNECTED()
    state.connectState = ConnectState.Connecting
    if (state.bindState === BindState.Unbound) this.bind({ port: 0, exclusive: true }, null as never)
    const run = (): void => startConnect(this, validPort, address as string, callback as (() => void) | undefined)
    if (state.bindState !== BindState.Bound) {
      enqueue(this, run)
      return
    }
    run()
  }

  disconnect(): void {
    const state = stateOf(this)
    if (state.connectState !== ConnectState.Connected) throw ERR_SOCKET_DGRAM_NOT_CONNECTED()
    const native = openHandle(state)
    try {
      native.disconnect()
    } catch (e) {
      throw errnoException(nativeCode(e), 'connect')
    }
    state.connectState = ConnectState.Disconnected
  }

  // ---- send -----------------------------------------------------------------------------------

  send(msg: SendMessage, port?: number, address?: string, callback?: SendCallback): void
  send(msg: SendMessage, port?: number, callback?: SendCallback): void
  send(msg: SendMessage, callback?: SendCallback): void
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, port?: number, address?: string, callback?: SendCallback): void
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, port?: number, callback?: SendCallback): void
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, callback?: SendCallback): void
  send(buffer: unknown, offset?: unknown, length?: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
    const state = stateOf(this)
    if (state.kind === 'unix_dgram') {
      sendUnix(this, buffer, offset, length, port, address)
      return
    }
    const connected = state.connectState === ConnectState.Connected
    if (!connected) {
      if (address || (port && typeof port !== 'function')) {
        buffer = sliceMessage(buffer, offset, length)
      } else {
        callback = port
        port = offset
        address = length
      }
    } else {
      if (typeof length === 'number') {
        buffer = sliceMessage(buffer, offset, length)
        if (typeof port === 'function') {
          callback = port
          port = null
        }
      } else {
        callback = offset
      }
      if (port || address) throw ERR_SOCKET_DGRAM_IS_CONNECTED()
    }
    const list = messageParts(buffer)
    if (!connected) port = validatePort(port)
    if (typeof callback !== 'function') callback = undefined
    if (typeof address === 'function') {
      callback = address
      address = undefined
    } else if (address != null) {
      validateString(address, 'address')
    }
    healthCheck(state)
    if (state.bindState === BindState.Unbound) this.bind({ port: 0, exclusive: true }, null as never)
    if (list.length === 0) list.push(Buffer.alloc(0))
    const cb = callback as SendCallback | undefined
    if (state.bindState !== BindState.Bound) {
      // Re-entered after 'listening', revalidated and resolved then, as node does.
      enqueue(this, () => this.send(list, port as number, address as string, cb as SendCallback))
      return
    }
    if (!connected) {
      resolveThen(this, state, address, sendResolved, list, port, cb)
    } else {
      sendResolved(this, null, null, list, address, port, cb)
    }
  }

  // ---- close ----------------------------------------------------------------------------------

  close(callback?: () => void): this {
    const state = stateOf(this)
    if (typeof callback === 'function') this.on('close', callback)
    if (state.queue !== undefined) {
      // Waits behind the pre-bind queue; lost if the bind fails (as in node:dgram).
      state.queue.push(() => this.close())
      return this
    }
    healthCheck(state)
    // Sends still waiting for their turn leave now (see DIFFERENCES.md); only their callbacks
    // are dropped.
    flushOwner(state)
    const native = state.native!
    state.receiving = false
    state.native = null
    const dropped = native.close()
    dropInbox(state)
    if (state.shared !== undefined) {
      const { handle, release } = state.shared
      state.shared = undefined
      release.call(handle)
    }
    const boundFile = state.unix?.boundFile
    if (boundFile !== undefined && state.unix!.unlinkOnClose) unlinkBoundFile(boundFile)
    const cancelled = takeCancelled(state.pending, dropped)
    if (cancelled.length > 0) setImmediate(cancelSends, cancelled)
    process.nextTick(emitClose, this)
    return this
  }

  async [Symbol.asyncDispose](): Promise<void> {
    if (stateOf(this).native === null) return
    await new Promise<void>((resolve) => this.close(() => resolve()))
  }

  // ---- addressing -----------------------------------------------------------------------------

  address(): AddressInfo {
    const state = stateOf(this)
    healthCheck(state)
    const unnamed = state.kind === 'unix_dgram' && state.bindState === BindState.Unbound && state.connectState === ConnectState.Disconnected
    if (!state.hasFd || unnamed) throw errnoException('EBADF', 'getsockname')
    let out
    try {
      out = state.native!.localAddress()
    } catch (e) {
      throw errnoException(nativeCode(e), 'getsockname')
    }
    if (state.kind === 'unix_dgram') return { address: out.address } as AddressInfo
    return { address: out.address, family: out.family!, port: out.port! }
  }

  remoteAddress(): AddressInfo {
    const state = stateOf(this)
    healthCheck(state)
    if (state.connectState !== ConnectState.Connected) throw ERR_SOCKET_DGRAM_NOT_CONNECTED()
    let out
    try {
      out = state.native!.remoteAddress()
    } catch (e) {
      throw errnoException(nativeCode(e), 'getpeername')
    }
    if (state.kind === 'unix_dgram') return { address: out.address } as AddressInfo
    return { address: out.address, family: out.family!, port: out.port! }
  }

  // ---- options --------------------------------------------------------------------------------

  setBroadcast(flag: boolean): void {
    setOption(stateOf(this), 'setBroadcast', (n) => n.setBroadcast(!!flag))
  }

  setTTL(ttl: number): number {
    validateNumber(ttl, 'ttl')
    const value = ttl | 0
    setOption(stateOf(this), 'setTTL', (n) => n.setTtl(value), value < 1 || value > 255)
    return ttl
  }

  setMulticastTTL(ttl: number): number {
    validateNumber(ttl, 'ttl')
    const value = ttl | 0
    setOption(stateOf(this), 'setMulticastTTL', (n) => n.setMulticastTtl(value), value < 0 || value > 255)
    return ttl
  }

  setMulticastLoopback(flag: boolean): boolean {
    setOption(stateOf(this), 'setMulticastLoopback', (n) => n.setMulticastLoopback(!!flag))
    return flag
  }

  setMulticastInterface(interfaceAddress: string): void {
    const state = stateOf(this)
    healthCheck(state)
    validateString(interfaceAddress, 'interfaceAddress')
    setOption(state, 'setMulticastInterface', (n) => n.setMulticastInterface(interfaceAddress), !isInterfaceLiteral(interfaceAddress))
  }

  addMembership(multicastAddress: string, interfaceAddress?: string): void {
    membership(stateOf(this), 'addMembership', multicastAddress, interfaceAddress)
  }

  dropMembership(multicastAddress: string, interfaceAddress?: string): void {
    membership(stateOf(this), 'dropMembership', multicastAddress, interfaceAddress)
  }

  addSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    sourceMembership(stateOf(this), 'addSourceSpecificMembership', sourceAddress, groupAddress, interfaceAddress)
  }

  dropSourceSpecificMembership(sourceAddress: string, groupAddress: string, interfaceAddress?: string): void {
    sourceMembership(stateOf(this), 'dropSourceSpecificMembership', sourceAddress, groupAddress, interfaceAddress)
  }

  setRecvBufferSize(size: number): void {
    bufferSize(stateOf(this), size, true)
  }

  setSendBufferSize(size: number): void {
    bufferSize(stateOf(this), size, false)
  }

  getRecvBufferSize(): number {
    return bufferSize(stateOf(this), 0, true)
  }

  getSendBufferSize(): number {
    return bufferSize(stateOf(this), 0, false)
  }

  getSendQueueSize(): number {
    return openHandle(stateOf(this)).getSendQueueSize()
  }

  getSendQueueCount(): number {
    return openHandle(stateOf(this)).getSendQueueCount()
  }

  // ---- lifetime -------------------------------------------------------------------------------

  ref(): this {
    stateOf(this).native?.ref()
    return this
  }

  unref(): this {
    stateOf(this).native?.unref()
    return this
  }
}


// Members node:dgram has but @types/node does not declare; kept off the class type so that
// sockets stay assignable to and from node's.
Object.defineProperty(Socket.prototype, kNative, {
  get(this: Socket): NativeHandle | null {
    return stateOf(this).native
  },
  configurable: true,
})

/**
 * Beyond node:dgram: sends each element of `messages` as its own datagram, to one
 * destination, in as few syscalls as the kernel allows (sendmmsg; with createSocket({ gso:
 * true }), UDP GSO for runs of equal-sized datagrams). The same rules as send() apply:
 * implicit bind, the lookup, the send queue (in order, never lost) and an asynchronous
 * callback, called once with the total bytes or the first error. On a connected socket, or
 * a unix_dgram socket, pass the destination the way send() takes it.
 */
function sendMany(this: Socket, messages: unknown, port?: unknown, address?: unknown, callback?: unknown): void {
  const state = stateOf(this)
  if (!Array.isArray(messages)) throw ERR_INVALID_ARG_TYPE('messages', 'Array', messages)
  const datagrams: Buffer[] = new Array(messages.length)
  for (let i = 0; i < messages.length; i++) {
    const parts = messageParts(messages[i])
    datagrams[i] = joinParts(parts)
  }
  if (state.kind === 'unix_dgram' || state.connectState !== ConnectState.Disconnected) {
    sendEach(this, datagrams, port, address, callback)
    return
  }
  if (typeof address === 'function') {
    callback = address
    address = undefined
  } else if (typeof port === 'function') {
    callback = port
    port = undefined
  }
  port = validatePort(port)
  if (address != null) validateString(address, 'address')
  const cb = typeof callback === 'function' ? (callback as SendCallback) : undefined
  healthCheck(state)
  if (state.bindState === BindState.Unbound) this.bind({ port: 0, exclusive: true }, null as never)
  if (state.bindState !== BindState.Bound) {
    enqueue(this, () => sendMany.call(this, datagrams, port as number, address as string, cb as SendCallback))
    return
  }
  if (datagrams.length === 0) {
    if (cb) process.nextTick(cb, null, 0)
    return
  }
  resolveThen(this, state, address, sendManyResolved, datagrams, port, cb)
}

Object.defineProperty(Socket.prototype, 'sendMany', {
  configurable: true,
  enumerable: false,
  writable: true,
  value: sendMany,
})

Object.defineProperty(Socket.prototype, 'sendto', {
  /** Deprecated in node:dgram; kept for code that still calls it. */
  value: function sendto(this: Socket, buffer: unknown, offset: unknown, length: unknown, port: unknown, address: unknown, callback?: unknown): void {
    validateNumber(offset, 'offset')
    validateNumber(length, 'length')
    validateNumber(port, 'port')
    validateString(address, 'address')
    ;(this.send as (...args: unknown[]) => void)(buffer, offset, length, port, address, callback)
  },
  writable: true,
  configurable: true,
})

// unix_dgram additions, kept off the class type (see UnixSocket for their signatures).
Object.defineProperties(Socket.prototype, {
  sendWithFds: {
    value: function sendWithFds(this: Socket, msg: unknown, fds: unknown, a?: unknown, b?: unknown): void {
      sendUnixWithFds(this, msg, fds, a, b)
    },
    writable: true,
    configurable: true,
  },
  setPassCredentials: {
    value: function setPassCredentials(this: Socket, flag: boolean): Socket {
      const state = stateOf(this)
      if (state.kind !== 'unix_dgram') throw ERR_FEATURE_UNAVAILABLE('setPassCredentials on udp sockets')
      setOption(state, 'setsockopt', (n) => n.setPassCredentials(!!flag))
      return this
    },
    writable: true,
    configurable: true,
  },
  setReceiveFds: {
    value: function setReceiveFds(this: Socket, flag: boolean): Socket {
      const state = stateOf(this)
      if (state.kind !== 'unix_dgram') throw ERR_FEATURE_UNAVAILABLE('setReceiveFds on udp sockets')
      setOption(state, 'setsockopt', (n) => n.setReceiveFds(!!flag))
      state.unix!.receiveFds = !!flag
      return this
    },
    writable: true,
    configurable: true,
  },
})

// Flow control (flow.ts) and the descriptor, on every socket; typed on UdpSocket / UnixSocket.
Object.defineProperties(Socket.prototype, {
  pause: {
    value: function pause(this: Socket): Socket {
      const state = stateOf(this)
      flow.pause(this, state.native, state.receiving)
      return this
    },
    writable: true,
    configurable: true,
  },
  resume: {
    value: function resume(this: Socket): Socket {
      const state = stateOf(this)
      flow.resume(this, state.native, state.receiving)
      return this
    },
    writable: true,
    configurable: true,
  },
  isPaused: {
    value: function isPaused(this: Socket): boolean {
      return flow.isPaused(this)
    },
    writable: true,
    configurable: true,
  },
  fileno: {
    value: function fileno(this: Socket): number {
      return openHandle(stateOf(this)).fd()
    },
    writable: true,
    configurable: true,
  },
})

// ---- beyond node:dgram (advanced.ts; docs/beyond-node-dgram.md) -------------------------------
//
// Kept off the class type, like `sendto`, so node:dgram's Socket stays assignable to ours:
// createSocket('udp4' | 'udp6') returns a `UdpSocket`, which is Socket & SocketExtensions.

/** What @dgramx/dgram adds to node:dgram's UDP Socket. */
export interface SocketExtensions {
  /** Each element as its own datagram, sent with as few syscalls as possible; one callback. */
  sendMany: SendMany
  /** Per-datagram metadata on rinfo (localAddress, interfaceIndex, ttl, tos/ecn, timestamp); false turns it off. */
  setRecvMetadata(options: RecvMetadataOptions | boolean): this
  /** Report ICMP errors for this socket's sends as 'icmp' events (Linux IP_RECVERR). */
  setRecvErrors(flag: boolean): this
  /** IP_TOS / IPV6_TCLASS for every datagram sent: DSCP << 2 | ECN. Returns the value. */
  setTOS(tos: number): number
  getTOS(): number
  /** SO_BINDTODEVICE: send and receive only through the named interface ('' unbinds). */
  bindToDevice(interfaceName: string): this
  /** Path-MTU discovery: 'do' sets DF and never fragments, 'dont' fragments, 'want' is the default, 'probe' sets DF ignoring the path MTU. */
  setMTUDiscover(mode: MtuDiscoverMode): this
  /** The kernel's path MTU towards the connected peer (ENOTCONN when not connected). */
  getPathMTU(): number
  /** SO_RCVBUFFORCE: a receive buffer past net.core.rmem_max (needs CAP_NET_ADMIN, else EPERM). */
  forceRecvBufferSize(size: number): this
  /** SO_SNDBUFFORCE: a send buffer past net.core.wmem_max (needs CAP_NET_ADMIN, else EPERM). */
  forceSendBufferSize(size: number): this
  /**
   * Sends one datagram with per-send control: source address, outgoing interface, TOS. Same
   * callback, pre-bind queue, lookup and ordering as send(); on a connected socket omit
   * port and address.
   */
  sendWith(msg: SendMessage, options: SendWithOptions, callback?: SendCallback): void
  /**
   * Stops reading from the kernel until resume(): what `events.on(socket, 'message', {
   * highWaterMark })` calls for backpressure. At most the rest of one receive batch still
   * arrives; later datagrams wait in the kernel's receive buffer (where UDP may drop them).
   */
  pause(): this
  /** Reads again after pause(). */
  resume(): this
  isPaused(): boolean
  /** The socket's descriptor (-1 on Windows). It stays the socket's: do not close it. */
  fileno(): number
  /** `for await (const { msg, rinfo } of socket)`: promises.messages(socket) with its defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Datagram<RemoteInfo>>
  /** ICMP errors, after setRecvErrors(true) / the recvErrors option. */
  addListener(event: 'icmp', listener: (report: IcmpReport) => void): this
  on(event: 'icmp', listener: (report: IcmpReport) => void): this
  once(event: 'icmp', listener: (report: IcmpReport) => void): this
  prependListener(event: 'icmp', listener: (report: IcmpReport) => void): this
  prependOnceListener(event: 'icmp', listener: (report: IcmpReport) => void): this
  emit(event: 'icmp', report: IcmpReport): boolean
}

/** A udp4/udp6 socket as createSocket() returns it: node:dgram's Socket plus SocketExtensions. */
export type UdpSocket = Socket & SocketExtensions

const extensionMethods = {
  /** Per-datagram metadata on rinfo (localAddress, interfaceIndex, ttl, tos/ecn, timestamp). */
  setRecvMetadata(this: Socket, options: RecvMetadataOptions | boolean): Socket {
    const state = stateOf(this)
    advanced.setRecvMetadata(openHandle(state), state.kind, options)
    return this
  },

  /** Report ICMP errors for this socket's sends as 'icmp' events (Linux IP_RECVERR). */
  setRecvErrors(this: Socket, flag: boolean): Socket {
    const state = stateOf(this)
    advanced.setRecvErrors(openHandle(state), state.kind, flag)
    return this
  },

  /** IP_TOS / IPV6_TCLASS for every datagram sent: DSCP << 2 | ECN. */
  setTOS(this: Socket, tos: number): number {
    const state = stateOf(this)
    return advanced.setTos(openHandle(state), state.kind, tos)
  },

  getTOS(this: Socket): number {
    const state = stateOf(this)
    return advanced.getTos(openHandle(state), state.kind)
  },

  /** SO_BINDTODEVICE: send and receive only through the named interface ('' unbinds). */
  bindToDevice(this: Socket, interfaceName: string): Socket {
    const state = stateOf(this)
    advanced.bindToDevice(openHandle(state), state.kind, interfaceName)
    return this
  },

  /** Path-MTU discovery: 'do' sets DF and never fragments, 'dont' fragments, 'want' is the default, 'probe' sets DF ignoring the path MTU. */
  setMTUDiscover(this: Socket, mode: MtuDiscoverMode): Socket {
    const state = stateOf(this)
    advanced.setMtuDiscover(openHandle(state), state.kind, mode)
    return this
  },

  /** The kernel's path MTU towards the connected peer (ENOTCONN when not connected). */
  getPathMTU(this: Socket): number {
    const state = stateOf(this)
    return advanced.getPathMtu(openHandle(state), state.kind)
  },

  /** SO_RCVBUFFORCE: a receive buffer past net.core.rmem_max (needs CAP_NET_ADMIN, else EPERM). */
  forceRecvBufferSize(this: Socket, size: number): Socket {
    const state = stateOf(this)
    advanced.forceBufferSize(openHandle(state), state.kind, true, size)
    return this
  },

  /** SO_SNDBUFFORCE: a send buffer past net.core.wmem_max (needs CAP_NET_ADMIN, else EPERM). */
  forceSendBufferSize(this: Socket, size: number): Socket {
    const state = stateOf(this)
    advanced.forceBufferSize(openHandle(state), state.kind, false, size)
    return this
  },

  /**
   * Sends one datagram with per-send control: source address, outgoing interface, TOS. Same
   * callback, pre-bind queue, lookup and ordering as send(); on a connected socket omit
   * port and address.
   */
  sendWith(this: Socket, msg: SendMessage, options: SendWithOptions, callback?: SendCallback): void {
    const state = stateOf(this)
    if (state.kind === 'unix_dgram') throw advanced.unsupportedOnType(state.kind, 'sendWith')
    const connected = state.connectState === ConnectState.Connected
    const opts = advanced.validateSendWith(options, state.family, connected)
    const list = messageParts(msg)
    if (callback !== undefined) validateFunction(callback, 'callback')
    healthCheck(state)
    if (state.bindState === BindState.Unbound) this.bind({ port: 0, exclusive: true }, null as never)
    if (list.length === 0) list.push(Buffer.alloc(0))
    if (state.bindState !== BindState.Bound) {
      enqueue(this, () => (this as UdpSocket).sendWith(list, options, callback))
      return
    }
    if (connected) sendWithResolved(this, null, null, list, opts, callback)
    else {
      seal()
      resolveAddress(state.lookup, state.family, opts.address, (ex, ip) => sendWithResolved(this, ex, ip, list, opts, callback))
    }
  },

}
for (const [name, value] of Object.entries(extensionMethods)) {
  Object.defineProperty(Socket.prototype, name, { value, writable: true, configurable: true })
}

// UDP-only methods on a unix_dgram socket: one rule and one error for all of them, checked
// before anything else (advanced.UDP_ONLY_METHODS).
for (const name of advanced.UDP_ONLY_METHODS) {
  const udp = (Socket.prototype as unknown as Record<string, (...args: unknown[]) => unknown>)[name]
  const guarded = {
    [name](this: Socket, ...args: unknown[]): unknown {
      if (stateOf(this).kind === 'unix_dgram') throw advanced.unsupportedOnType('unix_dgram', name)
      return udp.apply(this, args)
    },
  }[name]
  Object.defineProperty(guarded, 'length', { value: udp.length })
  Object.defineProperty(Socket.prototype, name, { value: guarded, writable: true, configurable: true })
}

// DEP0112: node:dgram's deprecated private members, where the running node:dgram has them.
defineDep0112(Socket.prototype, {
  get(socket, field) {
    const state = stateOf(socket)
    switch (field) {
      case '_handle':
        return state.native
      case '_receiving':
        return state.receiving
      case '_bindState':
        return state.bindState
      case '_queue':
        return state.queue
      case '_reuseAddr':
        return state.reuseAddrOption
    }
  },
  set(socket, field, value) {
    const state = stateOf(socket)
    switch (field) {
      case '_handle':
        state.native = value as NativeHandle | null
        break
      case '_receiving':
        state.receiving = value as boolean
        break
      case '_bindState':
        state.bindState = value as BindState
        break
      case '_queue':
        state.queue = value as (() => void)[] | undefined
        break
      case '_reuseAddr':
        state.reuseAddrOption = value
        state.reuseAddr = !!value
        break
    }
  },
  healthCheck(socket) {
    healthCheck(stateOf(socket))
  },
  stopReceiving(socket) {
    const state = stateOf(socket)
    if (!state.receiving) return
    state.native!.recvStop()
    state.receiving = false
  },
})

// bindSync / connectSync exist only in some releases; like node:dgram we offer them only there.
// They take numeric addresses only (no DNS), so the bind or connect happens inside the call.
if (nodeHas(SYNC_API)) {
  Object.defineProperty(Socket.prototype, 'bindSync', {
    value: function bindSync(this: Socket, options?: unknown): AddressInfo {
      const state = stateOf(this)
      healthCheck(state)
      const given = options === undefined ? {} : options
      if (given === null || typeof given !== 'object' || Array.isArray(given)) throw ERR_INVALID_ARG_TYPE('options', 'Object', given)
      if (state.bindState !== BindState.Unbound) throw ERR_SOCKET_ALREADY_BOUND()
      const opts = given as BindOptions
      const port = validatePort(opts.port ?? 0, 'options.port', true)
      let address = opts.address as unknown
      if (!address) address = state.family === 4 ? '0.0.0.0' : '::'
      else {
        validateString(address, 'options.address')
        if (isIP(address) === 0) {
          throw ERR_INVALID_ARG_VALUE('options.address', address, 'must be a numeric IP address; bindSync does not perform DNS resolution')
        }
      }
      bindNow(this, address as string, port)
      return this.address()
    },
    writable: true,
    configurable: true,
  })

  Object.defineProperty(Socket.prototype, 'connectSync', {
    value: function connectSync(this: Socket, port: unknown, address?: unknown): void {
      const state = stateOf(this)
      healthCheck(state)
      const validPort = validatePort(port)
      if (address) {
        validateString(address, 'address')
        if (isIP(address) === 0) {
          throw ERR_INVALID_ARG_VALUE('address', address, 'must be a numeric IP address; connectSync does not perform DNS resolution')
        }
      }
      if (state.connectState !== ConnectState.Disconnected) throw ERR_SOCKET_DGRAM_IS_CONNECTED()
      if (state.bindState === BindState.Binding) throw ERR_SOCKET_ALREADY_BOUND()
      if (state.bindState === BindState.Unbound) bindNow(this, state.family === 4 ? '0.0.0.0' : '::', 0)
      const ip = (address as string) || (state.family === 4 ? '127.0.0.1' : '::1')
      if (state.sendBlockList?.check(ip, ipFamily(ip))) throw ipBlocked(ip)
      try {
        state.native!.connect(ip, validPort)
      } catch (e) {
        throw exceptionWithHostPort(nativeCode(e), 'connect', address, validPort)
      }
      state.connectState = ConnectState.Connected
      process.nextTick(() => {
        if (state.native !== null) this.emit('connect')
      })
    },
    writable: true,
    configurable: true,
  })
}

/** A synchronous bind to an IP literal; 'listening' follows on the next tick. */
function bindNow(socket: Socket, address: string, port: number): void {
  const state = stateOf(socket)
  state.bindState = BindState.Binding
  state.hasFd = true
  try {
    state.native!.bind(address, port, bindFlags(state))
  } catch (e) {
    state.bindState = BindState.Unbound
    throw exceptionWithHostPort(bindCode(e), 'bind', address, port)
  }
  const native = state.native!
  flow.startReading(socket, native)
  state.receiving = true
  state.bindState = BindState.Bound
  if (state.recvBufferSize) bufferSize(state, state.recvBufferSize, true)
  if (state.sendBufferSize) bufferSize(state, state.sendBufferSize, false)
  process.nextTick(() => {
    if (state.native !== null) socket.emit('listening')
  })
}

// Event listener signatures, as @types/node declares them for dgram.Socket.
export interface Socket {
  addListener(event: string | symbol, listener: (...args: any[]) => void): this
  addListener(event: 'close', listener: () => void): this
  addListener(event: 'connect', listener: () => void): this
  addListener(event: 'error', listener: (err: Error) => void): this
  addListener(event: 'listening', listener: () => void): this
  addListener(event: 'message', listener: (msg: NonSharedBuffer, rinfo: RemoteInfo) => void): this
  /** Beyond node:dgram: whole receive batches instead of 'message' events (see MessageBatch). */
  addListener(event: 'messages', listener: (batch: MessageBatch<RemoteInfo>) => void): this
  emit(event: string | symbol, ...args: any[]): boolean
  emit(event: 'close'): boolean
  emit(event: 'connect'): boolean
  emit(event: 'error', err: Error): boolean
  emit(event: 'listening'): boolean
  emit(event: 'message', msg: NonSharedBuffer, rinfo: RemoteInfo): boolean
  emit(event: 'messages', batch: MessageBatch<RemoteInfo>): boolean
  on(event: string | symbol, listener: (...args: any[]) => void): this
  on(event: 'close', listener: () => void): this
  on(event: 'connect', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'listening', listener: () => void): this
  on(event: 'message', listener: (msg: NonSharedBuffer, rinfo: RemoteInfo) => void): this
  /** Beyond node:dgram: whole receive batches instead of 'message' events (see MessageBatch). */
  on(event: 'messages', listener: (batch: MessageBatch<RemoteInfo>) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'close', listener: () => void): this
  once(event: 'connect', listener: () => void): this
  once(event: 'error', listener: (err: Error) => void): this
  once(event: 'listening', listener: () => void): this
  once(event: 'message', listener: (msg: NonSharedBuffer, rinfo: RemoteInfo) => void): this
  /** Beyond node:dgram: whole receive batches instead of 'message' events (see MessageBatch). */
  once(event: 'messages', listener: (batch: MessageBatch<RemoteInfo>) => void): this
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependListener(event: 'close', listener: () => void): this
  prependListener(event: 'connect', listener: () => void): this
  prependListener(event: 'error', listener: (err: Error) => void): this
  prependListener(event: 'listening', listener: () => void): this
  prependListener(event: 'message', listener: (msg: NonSharedBuffer, rinfo: RemoteInfo) => void): this
  /** Beyond node:dgram: whole receive batches instead of 'message' events (see MessageBatch). */
  prependListener(event: 'messages', listener: (batch: MessageBatch<RemoteInfo>) => void): this
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'close', listener: () => void): this
  prependOnceListener(event: 'connect', listener: () => void): this
  prependOnceListener(event: 'error', listener: (err: Error) => void): this
  prependOnceListener(event: 'listening', listener: () => void): this
  prependOnceListener(event: 'message', listener: (msg: NonSharedBuffer, rinfo: RemoteInfo) => void): this
  /** Beyond node:dgram: whole receive batches instead of 'message' events (see MessageBatch). */
  prependOnceListener(event: 'messages', listener: (batch: MessageBatch<RemoteInfo>) => void): this
}

type EventMethod = 'addListener' | 'on' | 'once' | 'prependListener' | 'prependOnceListener' | 'emit'
type UnixOverridden = 'bind' | 'connect' | 'send' | 'sendMany' | 'address' | 'remoteAddress' | 'ref' | 'unref' | 'close' | EventMethod | advanced.UdpOnlyMethod

/**
 * A unix_dgram socket (what `createSocket('unix_dgram')` returns): the same object as a UDP
 * Socket, typed with paths instead of ports and addresses.
 */
export interface UnixSocket extends Omit<Socket, UnixOverridden> {
  /**
   * A filesystem path or a Linux abstract name ('\0name', or '@name' in a string); no path
   * means autobind (Linux). A socket file nobody is bound to any more is replaced (anything
   * else at the path fails with EADDRINUSE), and the file is removed on close; see
   * `UnixBindOptions` for the opt-outs.
   */
  bind(path?: string | Buffer, callback?: () => void): this
  bind(options: UnixBindOptions, callback?: () => void): this
  bind(callback: () => void): this
  /** Sends go to this peer until disconnect(); the callback gets the error if connect fails. */
  connect(path: string | Buffer, callback?: (err?: Error) => void): void
  /** To a path; works without bind (the receiver then sees an unnamed sender, ''). */
  send(msg: SendMessage, path: string | Buffer, callback?: SendCallback): void
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, path: string | Buffer, callback?: SendCallback): void
  /** On a connected socket. */
  send(msg: SendMessage, callback?: SendCallback): void
  send(msg: string | NodeJS.ArrayBufferView, offset: number, length: number, callback?: SendCallback): void
  /**
   * Sends one datagram carrying open descriptors (SCM_RIGHTS): the receiver gets its own
   * copies. Keep yours open until the callback has run; then they are yours to close.
   */
  sendWithFds(msg: SendMessage, fds: readonly number[], path: string | Buffer, callback?: SendCallback): void
  /** On a connected socket. */
  sendWithFds(msg: SendMessage, fds: readonly number[], callback?: SendCallback): void
  /** Linux: `rinfo.pid/uid/gid` on every datagram received (SO_PASSCRED). */
  setPassCredentials(flag: boolean): this
  /** Receive descriptors sent with datagrams as `rinfo.fds` (otherwise they are closed). */
  setReceiveFds(flag: boolean): this
  /** Stops reading until resume() (see SocketExtensions.pause); a unix_dgram sender then waits in its send queue. */
  pause(): this
  resume(): this
  isPaused(): boolean
  /**
   * The descriptor, e.g. to hand a socketpair() end to a child process through
   * child_process's `stdio`. It stays this socket's: close the socket (not the fd) when done.
   */
  fileno(): number
  /** `for await (const { msg, rinfo } of socket)`: promises.messages(socket) with its defaults. */
  [Symbol.asyncIterator](): AsyncIterableIterator<Datagram<UnixRemoteInfo>>
  /** The address: a path, an abstract name ('\0name'), or '' when unnamed. */
  /** Each element as its own datagram, to a path (or the connected peer); one callback. */
  sendMany(messages: readonly (string | NodeJS.ArrayBufferView)[], path: string | Buffer, callback?: SendCallback): void
  sendMany(messages: readonly (string | NodeJS.ArrayBufferView)[], callback?: SendCallback): void
  address(): UnixAddressInfo
  remoteAddress(): UnixAddressInfo
  ref(): this
  unref(): this
  close(callback?: () => void): this
  addListener(event: string | symbol, listener: (...args: any[]) => void): this
  addListener(event: 'message', listener: UnixMessageListener): this
  addListener(event: 'messages', listener: (batch: MessageBatch<UnixRemoteInfo>) => void): this
  on(event: string | symbol, listener: (...args: any[]) => void): this
  /** 'drain': the send queue, non-empty before, has emptied. */
  on(event: 'close' | 'connect' | 'listening' | 'drain', listener: () => void): this
  on(event: 'error', listener: (err: Error) => void): this
  on(event: 'message', listener: UnixMessageListener): this
  on(event: 'messages', listener: (batch: MessageBatch<UnixRemoteInfo>) => void): this
  once(event: string | symbol, listener: (...args: any[]) => void): this
  once(event: 'close' | 'connect' | 'listening' | 'drain', listener: () => void): this
  once(event: 'error', listener: (err: Error) => void): this
  once(event: 'message', listener: UnixMessageListener): this
  once(event: 'messages', listener: (batch: MessageBatch<UnixRemoteInfo>) => void): this
  prependListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependListener(event: 'message', listener: UnixMessageListener): this
  prependListener(event: 'messages', listener: (batch: MessageBatch<UnixRemoteInfo>) => void): this
  prependOnceListener(event: string | symbol, listener: (...args: any[]) => void): this
  prependOnceListener(event: 'message', listener: UnixMessageListener): this
  prependOnceListener(event: 'messages', listener: (batch: MessageBatch<UnixRemoteInfo>) => void): this
  emit(event: string | symbol, ...args: any[]): boolean
}

// ---- helpers: state and checks ----------------------------------------------------------------

function healthCheck(state: State): void {
  if (state.native === null) throw ERR_SOCKET_DGRAM_NOT_RUNNING()
}

/**
 * The open handle for calls where node:dgram has no health check and crashes with an uncoded
 * TypeError on a closed socket; we throw ERR_SOCKET_DGRAM_NOT_RUNNING instead (DIFFERENCES.md).
 */
function openHandle(state: State): NativeHandle {
  if (state.native === null) throw ERR_SOCKET_DGRAM_NOT_RUNNING()
  return state.native
}

function checkBlockList(value: unknown, name: string): BlockList | undefined {
  if (!value) return undefined
  if (!isBlockList(value)) {
    throw ERR_INVALID_ARG_TYPE(name, 'net.BlockList', value)
  }
  return value as BlockList
}

/** The port as libuv sees it: ToUint32, then truncated to 16 bits (node does not validate). */
function toPort16(port: unknown): number {
  return (Number(port || 0) >>> 0) & 0xffff
}

function bindFlags(state: State): number {
  let flags = 0
  if (state.reuseAddr) flags |= BIND_REUSE_ADDR
  if (state.ipv6Only) flags |= BIND_IPV6_ONLY
  if (state.reusePort) flags |= BIND_REUSE_PORT
  return flags
}

function bindCode(e: unknown): string {
  const code = nativeCode(e)
  // The binding's own range check; libuv never sees such a port.
  return code.startsWith('ERR_') ? 'EINVAL' : code
}

/** A trailing function passed to bind() becomes a one-shot 'listening' listener. */
/** Registers bind()'s callback as node:dgram does; returns a function that unregisters it. */
function addBindCallback(socket: Socket, args: IArguments): () => void {
  const cb = args.length > 0 && args[args.length - 1]
  if (typeof cb !== 'function') return () => {}
  function removeListeners(this: Socket): void {
    this.removeListener(bindCleanupEvent, removeListeners)
    this.removeListener('listening', onListening)
  }
  function onListening(this: Socket): void {
    removeListeners.call(this)
    cb.call(this)
  }
  socket.on(bindCleanupEvent, removeListeners)
  socket.on('listening', onListening)
  return () => removeListeners.call(socket)
}

function bindResolved(socket: Socket, err: Error | null, ip: string, port: unknown, exclusive: boolean): void {
  const state = stateOf(socket)
  // Closed while resolving: node drops the bind silently.
  if (state.native === null) return
  if (err) {
    state.bindState = BindState.Unbound
    socket.emit('error', err)
    return
  }
  // reusePort makes a bind exclusive, as in node:dgram: each worker gets its own socket.
  if (sharesThroughPrimary(exclusive || state.reusePort)) {
    const options = { address: ip, port: port as number, addressType: state.kind, flags: clusterFlags(state.reuseAddr, state.ipv6Only) }
    requestShared(socket, options, (failure, handle) => {
      if (failure !== null) {
        // Closed meanwhile: node:dgram reports nothing.
        if (state.native === null) return
        state.bindState = BindState.Unbound
        const ex = exceptionWithHostPort(failure.code, 'bind', ip, port)
        ex.errno = failure.errno
        socket.emit('error', ex)
        return
      }
      if (handle === null || handle === undefined || !(handle.fd >= 0)) {
        // Bun's primary answers without a handle (its cluster shares no UDP socket): the
        // worker binds by itself, as on Windows.
        bindResolved(socket, null, ip, port, true)
        return
      }
      if (state.native === null) handle.close()
      else adoptShared(socket, handle, ip, port)
    })
    return
  }
  state.hasFd = true
  try {
    state.native.bind(ip, toPort16(port), bindFlags(state))
  } catch (e) {
    state.bindState = BindState.Unbound
    socket.emit('error', exceptionWithHostPort(bindCode(e), 'bind', ip, port))
    return
  }
  startListening(socket)
}

/**
 * A cluster worker's bind: the socket receives on a duplicate of the primary's descriptor.
 * When the cluster disconnects it closes every shared handle; with node:dgram that handle is
 * the socket's own, so the socket closes with it ('close' included), and so does ours.
 */
function adoptShared(socket: Socket, handle: SharedHandle, ip: string, port: unknown): void {
  const state = stateOf(socket)
  try {
    state.native!.adopt(handle.fd, true)
  } catch (e) {
    handle.close()
    state.bindState = BindState.Unbound
    socket.emit('error', exceptionWithHostPort(nativeCode(e), 'bind', ip, port))
    return
  }
  const release = handle.close
  handle.close = function (this: SharedHandle, callback?: () => void): void {
    if (state.native !== null && state.shared?.handle === handle) socket.close(callback)
    else release.call(handle, callback)
  }
  state.shared = { handle, release }
  startListening(socket)
}

/** The descriptor of `bind({ fd })`: node:dgram adopts int32 fds above 0 and ignores the rest. */
function adoptableFd(arg: unknown): number | null {
  if (arg === null || typeof arg !== 'object' || Buffer.isBuffer(arg)) return null
  const fd = (arg as BindOptions).fd
  return typeof fd === 'number' && (fd | 0) === fd && fd > 0 ? fd : null
}

/**
 * `bind({ fd })`: the socket takes over an open descriptor (systemd socket activation, a
 * parent process) and is listening before bind() returns, as in node:dgram. UDP sockets take
 * IPv4/IPv6 datagram sockets of their family, unix_dgram sockets AF_UNIX datagram sockets.
 * Unlike node:dgram, a refused descriptor leaves the socket unbound and usable (DIFFERENCES.md).
 */
function adoptFd(socket: Socket, fd: number, args: IArguments): void {
  const state = stateOf(socket)
  try {
    state.native!.adopt(fd)
  } catch (e) {
    const code = nativeCode(e)
    if (code === 'ERR_INVALID_FD_TYPE') {
      throw ERR_INVALID_FD_TYPE(String((e as Error).message).replace(/^Unsupported fd type: /, ''))
    }
    throw errnoException(code, 'open')
  }
  // A unix descriptor that already has a peer (a socketpair() end, handed to a child): sends
  // without a path go to that peer, as after connect().
  if (state.kind === 'unix_dgram' && hasPeer(state.native!)) state.connectState = ConnectState.Connected
  state.bindState = BindState.Binding
  addBindCallback(socket, args)
  startListening(socket)
}

function hasPeer(native: NativeHandle): boolean {
  try {
    native.remoteAddress()
    return true
  } catch {
    return false
  }
}

function startListening(socket: Socket): void {
  startReceiving(socket)
  socket.emit('listening')
}

function startReceiving(socket: Socket): void {
  const state = stateOf(socket)
  const native = state.native!
  flow.startReading(socket, native)
  state.receiving = true
  state.bindState = BindState.Bound
  state.hasFd = true
  // Failures here escape uncaught, exactly as with node:dgram.
  if (state.recvBufferSize) bufferSize(state, state.recvBufferSize, true)
  if (state.sendBufferSize) bufferSize(state, state.sendBufferSize, false)
}

// ---- the pre-bind queue ---------------------------------------------------------------------

/**
 * Work waiting for 'listening'. If the bind fails the queue is dropped, as in node:dgram; a
 * unix_dgram call passes `onDrop` so that it still reports an outcome (it runs synchronously
 * inside the bind's 'error' emit, before any listener, to put the state right).
 */
function enqueue(socket: Socket, work: () => void, onDrop?: (err: Error) => void): void {
  const state = stateOf(socket)
  if (state.queue === undefined) {
    state.queue = []
    socket.once(EventEmitter.errorMonitor, onListenError)
    socket.once('listening', onListenSuccess)
  }
  state.queue.push(work)
  if (onDrop !== undefined) (state.queueDrops ??= []).push(onDrop)
}

function onListenSuccess(this: Socket): void {
  this.removeListener(EventEmitter.errorMonitor, onListenError)
  const state = stateOf(this)
  const queue = state.queue!
  state.queue = undefined
  state.queueDrops = undefined
  for (const work of queue) work()
}

function onListenError(this: Socket, err: Error): void {
  this.removeListener('listening', onListenSuccess)
  const state = stateOf(this)
  const drops = state.queueDrops ?? []
  state.queue = undefined
  state.queueDrops = undefined
  for (const drop of drops) drop(err)
}

// ---- unix_dgram bind and connect --------------------------------------------------------------

/** The descriptor could not be created (the native failure is the cause). */
class DescriptorUnavailable extends Error {
  constructor(override readonly cause: unknown) {
    super('socket')
  }
}

/** createSocket's unix_dgram options, as the socket's state. */
function unixState(options: UnixSocketOptions | undefined): UnixState {
  return {
    // Like net.Server: the file a path bind creates goes away on close unless asked to stay.
    unlinkOnClose: options?.unlinkOnClose === undefined ? true : !!options.unlinkOnClose,
    boundFile: undefined,
    receiveFds: !!options?.receiveFds,
  }
}

/** createSocket's unix_dgram options that the descriptor carries. */
function configureUnix(native: NativeHandle, options: UnixSocketOptions | undefined, limits: NativeLimits): void {
  try {
    native.setSendQueueLimit(...limits)
    if (options?.passCredentials) native.setPassCredentials(true)
    if (options?.receiveFds) native.setReceiveFds(true)
  } catch (e) {
    throw fromNative(e, 'setsockopt')
  }
}

/**
 * A handle whose descriptor could not be created yet. Every call tries again and forwards to
 * the real handle once it exists; until then it throws the native failure, which each caller
 * reports under its own syscall (`bind EMFILE 127.0.0.1`, as node:dgram does). close() needs
 * no descriptor.
 */
function deferredNative(open: () => NativeHandle): NativeHandle {
  const retry = (): NativeHandle => {
    try {
      return open()
    } catch (e) {
      // The native failure itself, for the caller to name with its own syscall.
      throw e instanceof DescriptorUnavailable ? e.cause : e
    }
  }
  let real: NativeHandle | null = null
  const methods = new Map<PropertyKey, (...args: unknown[]) => unknown>()
  return new Proxy({} as NativeHandle, {
    get(_target, name) {
      let method = methods.get(name)
      if (method === undefined) {
        method = (...args: unknown[]): unknown => {
          if (real === null) {
            if (name === 'close') return undefined
            real = retry()
          }
          return (real[name as keyof NativeHandle] as (...a: unknown[]) => unknown)(...args)
        }
        methods.set(name, method)
      }
      return method
    },
  })
}

/** sendQueueLimit as the binding takes it: per destination (datagrams, bytes), then in all. */
type NativeLimits = [number | undefined, number | undefined, number | undefined, number | undefined]

/** Validates sendQueueLimit, reading each field once; undefined fields keep the core's default. */
function queueLimit(value: unknown): NativeLimits {
  if (value === undefined || value === null) return [undefined, undefined, undefined, undefined]
  if (typeof value === 'number') return [undefined, undefined, undefined, limitValue(value, 'options.sendQueueLimit')]
  if (typeof value !== 'object') throw ERR_INVALID_ARG_TYPE('options.sendQueueLimit', ['number', 'Object'], value)
  const { bytes, datagrams, perDestination } = value as SendQueueLimit
  let one: { bytes?: unknown; datagrams?: unknown } = {}
  if (perDestination !== undefined) {
    if (perDestination === null || typeof perDestination !== 'object') throw ERR_INVALID_ARG_TYPE('options.sendQueueLimit.perDestination', 'Object', perDestination)
    const { bytes, datagrams } = perDestination
    one = { bytes, datagrams }
  }
  return [
    limitValue(one.datagrams, 'options.sendQueueLimit.perDestination.datagrams'),
    limitValue(one.bytes, 'options.sendQueueLimit.perDestination.bytes'),
    limitValue(datagrams, 'options.sendQueueLimit.datagrams'),
    limitValue(bytes, 'options.sendQueueLimit.bytes'),
  ]
}

function limitValue(n: unknown, name: string): number | undefined {
  if (n === undefined) return undefined
  validateNumber(n, name)
  if (n === Infinity) return n
  if (!Number.isInteger(n) || n < 0) throw ERR_OUT_OF_RANGE(name, 'a non-negative integer or Infinity', n)
  return n
}

interface UnixBindRequest {
  /** null: autobind. */
  path: UnixPath | null
  unlinkExisting: false | true | 'stale'
  mode: number | undefined
  unlinkOnClose: boolean | undefined
}

/** Reads and checks bind()'s unix arguments before any state changes. */
function unixBindRequest(arg: unknown): UnixBindRequest {
  let path = arg
  let opts: UnixBindOptions = {}
  if (arg !== null && typeof arg === 'object' && !Buffer.isBuffer(arg)) {
    opts = arg as UnixBindOptions
    path = opts.path
  }
  const request: UnixBindRequest = { path: null, unlinkExisting: false, mode: undefined, unlinkOnClose: undefined }
  if (!(path === undefined || path === null || typeof path === 'function' || path === '')) {
    validateUnixDestination(path, 'path')
    request.path = path as UnixPath
  }
  const { unlinkExisting, mode, unlinkOnClose } = opts
  if (unlinkExisting !== undefined && unlinkExisting !== true && unlinkExisting !== false && unlinkExisting !== 'stale') {
    throw ERR_INVALID_ARG_VALUE('options.unlinkExisting', unlinkExisting, "must be a boolean or 'stale'")
  }
  // A socket file nobody is bound to is a crashed process's leftover (what a daemon removes at
  // start); a live socket's file and anything that is not a socket are never touched.
  request.unlinkExisting = unlinkExisting ?? 'stale'
  if (mode !== undefined) {
    validateNumber(mode, 'options.mode')
    if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw ERR_OUT_OF_RANGE('options.mode', '>= 0 and <= 0o7777', mode)
    if (request.path === null || isAbstract(request.path)) {
      throw ERR_INVALID_ARG_VALUE('options.mode', mode, 'applies to a filesystem path only (abstract and autobound names have no file)')
    }
    request.mode = mode
  }
  if (unlinkOnClose !== undefined) request.unlinkOnClose = !!unlinkOnClose
  return request
}

/** Whether a datagram socket still answers at `path` (a connect is not refused). */
function socketIsLive(path: UnixPath): boolean {
  const probe = new NativeSocket('unix_dgram', () => {})
  try {
    probe.connectUnix(pathBytes(path))
    return true
  } catch (e) {
    return nativeCode(e) !== 'ECONNREFUSED'
  } finally {
    probe.close()
  }
}

function bindUnixNow(socket: Socket, request: UnixBindRequest): void {
  if (stateOf(socket).native === null) return
  const err = bindUnixCore(socket, request)
  if (err !== null) socket.emit('error', err)
  else socket.emit('listening')
}

/** Binds at once and starts receiving; a failure is returned (the state already says it). */
function bindUnixCore(socket: Socket, request: UnixBindRequest): Error | null {
  const state = stateOf(socket)
  state.hasFd = true
  const { path } = request
  const file = path !== null && !isAbstract(path) ? path : null
  if (file !== null && request.unlinkExisting) removeExistingSocketFile(file, request.unlinkExisting, () => socketIsLive(file))
  // Where the file is, fixed now: a later process.chdir() must not change which file close removes.
  const where = file !== null ? absoluteUnixPath(file) : null
  const unix = state.unix!
  try {
    const created = state.native!.bindUnix(path === null ? Buffer.alloc(0) : pathBytes(path), request.mode)
    if (where !== null && created !== null) unix.boundFile = { path: where, dev: created.dev, ino: created.ino }
  } catch (e) {
    if (!(isNativeFailure(e) && e.message === 'chmod')) {
      state.bindState = BindState.Unbound
      return unixSocketError(e, 'bind', path)
    }
    // The name is bound (a socket cannot unbind) but could not be given its mode, or was
    // replaced before it could be checked: the caller should close the socket.
    state.bindState = BindState.Bound
    state.receiving = false
    return exceptionWithHostPort(e.code, 'chmod', pathString(file!), undefined)
  }
  if (request.unlinkOnClose !== undefined) unix.unlinkOnClose = request.unlinkOnClose
  startReceiving(socket)
  return null
}

function connectUnix(socket: Socket, path: unknown, callback: unknown): void {
  const state = stateOf(socket)
  validateUnixDestination(path, 'path')
  const cb = typeof callback === 'function' ? (callback as (err?: Error) => void) : undefined
  healthCheck(state)
  if (state.connectState !== ConnectState.Disconnected) throw ERR_SOCKET_DGRAM_IS_CONNECTED()
  state.connectState = ConnectState.Connecting
  const run = (): void => {
    const native = state.native
    if (native === null) return
    if (cb) socket.once('connect', cb)
    state.hasFd = true
    try {
      native.connectUnix(pathBytes(path))
    } catch (e) {
      state.connectState = ConnectState.Disconnected
      const err = unixSocketError(e, 'connect', path)
      process.nextTick(failConnect, socket, err, cb)
      return
    }
    // Connected at once, so a send() right after connect() already goes to the peer.
    state.connectState = ConnectState.Connected
    process.nextTick(emitConnect, socket)
  }
  if (state.bindState !== BindState.Binding) return run()
  // If the bind fails, the connect did not happen: the socket is left disconnected and the
  // callback hears why, like any failed connect.
  enqueue(socket, run, (err) => {
    state.connectState = ConnectState.Disconnected
    // Without a callback the bind's own 'error' event is the report.
    if (cb !== undefined) process.nextTick(failConnect, socket, err, cb)
  })
}

// ---- synchronous unix_dgram primitives (for @dgramx/unix-dgram) -------------------------------

/**
 * unix_dgram bind, connect and send that act inside the call and report by return or throw,
 * emitting nothing: the API of the npm package unix-dgram is synchronous, and
 * @dgramx/unix-dgram builds it on these. Not part of the node:dgram API.
 */
export const unixSync = {
  /** Binds `path` now and starts receiving. Throws the bind's error (a Node-style SystemError). */
  bind(socket: Socket | UnixSocket, path: unknown, options: { unlinkExisting?: boolean | 'stale'; unlinkOnClose?: boolean } = {}): void {
    const state = unixSyncState(socket, 'bind')
    if (state.bindState !== BindState.Unbound) throw ERR_SOCKET_ALREADY_BOUND()
    const request = unixBindRequest({ path, ...options })
    state.bindState = BindState.Binding
    const err = bindUnixCore(socket as Socket, request)
    if (err !== null) throw err
  },

  /** Connects to `path` now. Throws the connect's error. */
  connect(socket: Socket | UnixSocket, path: unknown): void {
    const state = unixSyncState(socket, 'connect')
    validateUnixDestination(path, 'path')
    if (state.connectState !== ConnectState.Disconnected) throw ERR_SOCKET_DGRAM_IS_CONNECTED()
    if (state.bindState === BindState.Binding) throw ERR_SOCKET_ALREADY_BOUND()
    state.hasFd = true
    try {
      state.native!.connectUnix(pathBytes(path as UnixPath))
    } catch (e) {
      throw unixSocketError(e, 'connect', path)
    }
    state.connectState = ConnectState.Connected
  },

  /**
   * Sends `data` to `path` (null: the connected peer) now. Returns true when the kernel took it;
   * false when it waits behind a full buffer, and then `whenQueuedDone` hears its outcome (or
   * ECANCELED on close). Throws an immediate failure.
   */
  send(socket: Socket | UnixSocket, data: Buffer, path: unknown, whenQueuedDone: (err: Error | null) => void): boolean {
    const state = unixSyncState(socket, 'send')
    if (path !== null) validateUnixDestination(path, 'path')
    let sent: number
    try {
      sent = state.native!.sendUnix(data, path === null ? null : pathBytes(path as UnixPath), null)
    } catch (e) {
      throw unixSocketError(e, 'send', path)
    }
    return !recordIfQueued(state.pending, sent, {
      callback: AsyncResource.bind((err: Error | null) => whenQueuedDone(err)),
      address: path === null ? undefined : pathString(path as UnixPath),
      port: undefined,
      emitWithoutCallback: false,
    })
  },
}

function unixSyncState(socket: Socket | UnixSocket, method: string): State {
  const state = stateOf(socket as Socket)
  if (state.kind !== 'unix_dgram') throw advanced.unsupportedOnType(state.kind, `unixSync.${method}`)
  healthCheck(state)
  return state
}

// ---- UDP connect ------------------------------------------------------------------------------

function startConnect(socket: Socket, port: number, address: string, callback: (() => void) | undefined): void {
  const state = stateOf(socket)
  // node:dgram crashes here with a TypeError when the socket was closed; we report it properly.
  healthCheck(state)
  if (callback) socket.once('connect', callback)
  seal()
  resolveAddress(state.lookup, state.family, address, (ex, ip) => {
    if (state.native === null) return
    let err: Error | null = ex
    if (!err && state.sendBlockList?.check(ip, ipFamily(ip))) err = ipBlocked(ip)
    if (!err) {
      try {
        state.native.connect(ip, port)
      } catch (e) {
        err = exceptionWithHostPort(nativeCode(e), 'connect', address, port)
      }
    }
    if (err) {
      state.connectState = ConnectState.Disconnected
      process.nextTick(failConnect, socket, err, callback)
      return
    }
    state.connectState = ConnectState.Connected
    process.nextTick(emitConnect, socket)
  })
}

function failConnect(socket: Socket, err: Error, callback: ((err?: Error) => void) | undefined): void {
  if (callback) {
    socket.removeListener('connect', callback)
    ;(callback as (err: Error) => void)(err)
  } else {
    socket.emit('error', err)
  }
}

function emitConnect(socket: Socket): void {
  socket.emit('connect')
}

function ipFamily(ip: string): 'ipv4' | 'ipv6' {
  return isIP(ip) === 6 ? 'ipv6' : 'ipv4'
}

// ---- sending ----------------------------------------------------------------------------------

type Resolved<T> = (socket: Socket, ex: Error | null, ip: string | null, data: T, address: unknown, port: unknown, callback: SendCallback | undefined, now?: boolean) => void

/**
 * Resolves an unconnected send's destination, then runs `then`. A user `lookup` is called
 * every time, as in node:dgram. With the default lookup, an IP literal (and the empty address)
 * needs no dns.lookup, whose only effect would be to answer on the next tick, and a name's
 * answer is reused for NAME_CACHE_MS: such a send (`now`) takes its turn in the tick queue
 * instead (tick-queue.ts), so it leaves exactly when node:dgram's would.
 */
function resolveThen<T>(socket: Socket, state: State, address: unknown, then: Resolved<T>, data: T, port: unknown, cb: SendCallback | undefined): void {
  if (state.defaultLookup) {
    const ip = literalAddress(state.family, address) ?? state.names?.get(address as string) ?? null
    if (ip !== null) {
      then(socket, null, ip, data, address, port, cb, true)
      return
    }
    seal()
    resolveAddress(state.lookup, state.family, address, (ex, ip) => {
      if (!ex) (state.names ??= new NameCache()).set(address as string, ip)
      then(socket, ex, ip, data, address, port, cb)
    })
    return
  }
  // A user lookup may answer on the next tick like dns.lookup: sends after this one follow it.
  seal()
  resolveAddress(state.lookup, state.family, address, (ex, ip) => then(socket, ex, ip, data, address, port, cb))
}

/** A send's immediate outcome, on the next tick as node:dgram reports it. */
function settle(callback: SendCallback, err: Error | null, bytes?: number): void {
  if (bytes === undefined) process.nextTick(callback, err)
  else process.nextTick(callback, err, bytes)
}

/**
 * Where every resolved send starts: a lookup error goes to the callback (or 'error'), a socket
 * closed meanwhile drops the send, and a blocked destination fails it. Returns the handle to
 * send on, or null when the send is already settled.
 */
function readyToSend(socket: Socket, state: State, ex: Error | null, ip: string | null, port: unknown, callback: SendCallback | undefined): NativeHandle | null {
  if (ex) {
    if (callback) process.nextTick(callback, ex)
    else process.nextTick(emitError, socket, ex)
    return null
  }
  if (state.native === null) return null
  if (port && state.sendBlockList?.check(ip!, ipFamily(ip!))) {
    if (callback) settle(callback, ipBlocked(ip!))
    return null
  }
  return state.native
}

function sendManyResolved(
  socket: Socket,
  ex: Error | null,
  ip: string | null,
  datagrams: Buffer[],
  address: unknown,
  port: unknown,
  callback: SendCallback | undefined,
  now = false,
): void {
  const state = stateOf(socket)
  if (now) {
    // At its turn, like a send() made now (the callback is dropped if close() sends it early).
    enqueueWork(state, (closing) => sendManyResolved(socket, null, ip, datagrams, address, port, closing ? undefined : callback))
    return
  }
  const native = readyToSend(socket, state, ex, ip, port, callback)
  if (native === null) return
  let result: { sent: number; bytes: number; queued: number[] }
  try {
    result = native.sendMany(datagrams, ip, port as number, state.gso)
  } catch (e) {
    if (callback) settle(callback, exceptionWithHostPort(nativeCode(e), 'send', address, port))
    return
  }
  let bytes = result.bytes
  if (result.queued.length === 0) {
    if (callback) settle(callback, null, bytes)
    return
  }
  // The queued rest completes datagram by datagram; the callback runs after the last one.
  const done = callback && AsyncResource.bind(callback)
  let left = result.queued.length
  let firstError: Error | null = null
  const one = (err: Error | null, n: number): void => {
    if (err && firstError === null) firstError = err
    bytes += n || 0
    if (--left === 0 && done) done(firstError, firstError ? 0 : bytes)
  }
  for (const id of result.queued) state.pending.set(id, { callback: one, address, port, emitWithoutCallback: false })
}

/** sendMany() where one send() per datagram is the way (unix_dgram, connected sockets). */
function sendEach(socket: Socket, datagrams: Buffer[], a: unknown, b: unknown, callback: unknown): void {
  const args = [a, b, callback]
  // The callback is the last function among the destination arguments.
  let cb: SendCallback | undefined
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop()
  if (typeof args[args.length - 1] === 'function') cb = args.pop() as SendCallback
  if (datagrams.length === 0) {
    if (cb) process.nextTick(cb, null, 0)
    return
  }
  const send = socket.send as (...args: unknown[]) => void
  let left = datagrams.length
  let bytes = 0
  let firstError: Error | null = null
  const one = (err: Error | null, n: number): void => {
    if (err && firstError === null) firstError = err
    bytes += n || 0
    if (--left === 0 && cb) cb(firstError, firstError ? 0 : bytes)
  }
  for (const d of datagrams) send.call(socket, d, ...args, one)
}

function sendResolved(
  socket: Socket,
  ex: Error | null,
  ip: string | null,
  list: Buffer[],
  address: unknown,
  port: unknown,
  callback: SendCallback | undefined,
  now = false,
): void {
  const state = stateOf(socket)
  if (now) {
    // The hot path: an unconnected send to an IP literal (or a cached name) waits for the turn
    // node:dgram's lookup would give it, together with the other sends of that turn.
    if (state.sendBlockList === undefined) enqueueSend(state, joinParts(list), ip!, port as number, address, callback)
    else enqueueWork(state, (closing) => sendResolved(socket, null, ip, list, address, port, closing ? undefined : callback))
    return
  }
  const native = readyToSend(socket, state, ex, ip, port, callback)
  if (native === null) return
  let sent: number
  try {
    sent = port ? native.send(joinParts(list), ip, port as number) : native.send(joinParts(list), null, 0)
  } catch (e) {
    // Send failures go to the callback only; without one they are dropped, as in node:dgram.
    if (callback) settle(callback, exceptionWithHostPort(nativeCode(e), 'send', address, port))
    return
  }
  if (!recordIfQueued(state.pending, sent, { callback: callback && AsyncResource.bind(callback), address, port, emitWithoutCallback: false })) {
    if (callback) settle(callback, null, sent)
  }
}

/** sendWith() once the destination is known: like sendResolved, through the binding's sendWith. */
function sendWithResolved(
  socket: Socket,
  ex: Error | null,
  ip: string | null,
  list: Buffer[],
  opts: advanced.CheckedSendWith,
  callback: SendCallback | undefined,
): void {
  const state = stateOf(socket)
  const { port, address } = opts
  const native = readyToSend(socket, state, ex, ip, port, callback)
  if (native === null) return
  let sent: number
  try {
    sent = native.sendWith(joinParts(list), port ? ip : null, port, opts.source, opts.interfaceIndex, opts.tos)
  } catch (e) {
    const code = nativeCode(e)
    const err = code.startsWith('ERR_') ? advanced.optionError(e, state.kind, 'sendWith') : exceptionWithHostPort(code, 'send', address, port || undefined)
    if (callback) process.nextTick(callback, err)
    return
  }
  if (!recordIfQueued(state.pending, sent, { callback: callback && AsyncResource.bind(callback), address, port, emitWithoutCallback: false })) {
    if (callback) process.nextTick(callback, null, sent)
  }
}

function sendUnix(socket: Socket, msg: unknown, a: unknown, b: unknown, c: unknown, d: unknown): void {
  const state = stateOf(socket)
  // Until a queued connect has run, sends are read in their connected form too.
  const connected = state.connectState !== ConnectState.Disconnected
  let path: unknown = null
  let callback: unknown
  if (!connected) {
    if (typeof a === 'number' || typeof b === 'number') {
      msg = sliceMessage(msg, a, b)
      path = c
      callback = d
    } else {
      path = a
      callback = b
    }
  } else {
    if (typeof b === 'number') {
      msg = sliceMessage(msg, a, b)
      callback = c
    } else {
      callback = a
    }
    if (callback != null && typeof callback !== 'function') throw ERR_SOCKET_DGRAM_IS_CONNECTED()
  }
  const list = messageParts(msg)
  if (!connected) validateUnixDestination(path, 'path')
  const cb = typeof callback === 'function' ? (callback as SendCallback) : undefined
  healthCheck(state)
  sendUnixParts(socket, list, connected ? null : (path as UnixPath), cb, undefined)
}

/** sendWithFds(msg, fds, path[, cb]) / sendWithFds(msg, fds[, cb]) when connected. */
function sendUnixWithFds(socket: Socket, msg: unknown, fds: unknown, a: unknown, b: unknown): void {
  const state = stateOf(socket)
  if (state.kind !== 'unix_dgram') throw ERR_FEATURE_UNAVAILABLE('sendWithFds on udp sockets')
  const connected = state.connectState !== ConnectState.Disconnected
  const path = connected ? null : a
  const callback = connected ? a : b
  if (connected && callback != null && typeof callback !== 'function') throw ERR_SOCKET_DGRAM_IS_CONNECTED()
  const list = messageParts(msg)
  const fdList = readFds(fds)
  if (!connected) validateUnixDestination(path, 'path')
  healthCheck(state)
  sendUnixParts(socket, list, path as UnixPath | null, typeof callback === 'function' ? (callback as SendCallback) : undefined, fdList)
}

/** The most descriptors one datagram can carry here (the native SCM_RIGHTS buffer). */
const MAX_FDS = 32

/**
 * A plain copy of `fds`, validated. Each element (and the length) is read exactly once, so a
 * getter cannot hand the native side a different value from the one that was validated.
 */
function readFds(fds: unknown): number[] {
  if (!Array.isArray(fds)) throw ERR_INVALID_ARG_TYPE('fds', 'Array', fds)
  const length: unknown = fds.length
  if (typeof length !== 'number' || length === 0 || length > MAX_FDS) throw ERR_OUT_OF_RANGE('fds.length', `>= 1 and <= ${MAX_FDS}`, length)
  const copy: number[] = []
  for (let i = 0; i < length; i++) {
    const fd: unknown = fds[i]
    if (typeof fd !== 'number' || !Number.isInteger(fd) || fd < 0 || fd > 0x7fffffff) throw ERR_OUT_OF_RANGE(`fds[${i}]`, 'a file descriptor (an integer >= 0)', fd)
    copy.push(fd)
  }
  return copy
}

function sendUnixParts(socket: Socket, list: Buffer[], dest: UnixPath | null, cb: SendCallback | undefined, fds: number[] | undefined): void {
  const state = stateOf(socket)
  if (state.bindState === BindState.Binding) {
    // The descriptors are read again when the bind is done: the caller keeps them open until
    // the callback runs (documented).
    enqueue(
      socket,
      () => {
        if (state.native !== null) sendUnixParts(socket, list, dest, cb, fds)
      },
      // Not sent: the bind failed first. The callback says so instead of never running.
      (err) => {
        if (cb !== undefined) process.nextTick(cb, err, 0)
      },
    )
    return
  }
  const data = joinParts(list)
  const native = state.native!
  // The core bounds the queue (per destination and in all; see SendQueueLimit) and refuses a
  // send that would have to wait past a bound: ERR_SOCKET_DGRAM_QUEUE_FULL, nothing sent.
  let sent: number
  try {
    sent = native.sendUnix(data, dest === null ? null : pathBytes(dest), fds ?? null)
  } catch (e) {
    const err = unixSocketError(e, 'send', dest)
    if (cb) process.nextTick(cb, err)
    else process.nextTick(emitError, socket, err)
    return
  }
  const queued = recordIfQueued(state.pending, sent, {
    callback: cb && AsyncResource.bind(cb),
    address: dest === null ? undefined : pathString(dest),
    port: undefined,
    emitWithoutCallback: true,
  })
  if (!queued && cb) process.nextTick(cb, null, sent)
}

// ---- native events ------------------------------------------------------------------------------

function dispatchNativeEvent(socket: Socket, event: number, a: unknown, b: unknown, c: unknown, d: unknown): void {
  switch (event) {
    case EV_MESSAGES:
    case EV_MESSAGES_PACED:
    case EV_BATCH:
      receive(socket, event, a as Buffer, b as Int32Array, c as string[] | string, d as NativeAncillary[] | undefined)
      break
    case EV_NEXT_MESSAGE:
      deliverNext(socket)
      break
    case EV_SENDS_DONE:
      completeSends(socket, a as number[], b as (number | string)[])
      break
    case EV_ERROR:
      if (stateOf(socket).native !== null) socket.emit('error', errnoException(a as string, b as string))
      break
    case EV_ICMP:
      emitIcmp(socket, a as NativeIcmpError[])
      break
  }
}

/**
 * One native batch, as 'message' events or, with a 'messages' listener, as one MessageBatch
 * (batch.ts). The binding is re-aimed whenever the form it used is not the one wanted, so only
 * the batch that crossed a switch is converted here.
 */
function receive(socket: Socket, event: number, slab: Buffer, meta: Int32Array, addresses: string[] | string, ancillary: NativeAncillary[] | undefined): void {
  const wantBatch = socket.listenerCount('messages') > 0
  const isBatch = event === EV_BATCH
  if (wantBatch !== isBatch) {
    try {
      stateOf(socket).native?.setBatchDelivery(wantBatch)
    } catch {
      // Closed meanwhile: nothing more arrives anyway.
    }
  }
  if (wantBatch) emitBatch(socket, slab, isBatch ? meta : toColumns(meta), addresses, ancillary)
  // Datagrams the binding did not pace itself: the facade paces them, as for the thread driver.
  else if (isBatch) receiveBatch(socket, true, slab, toRows(meta), addresses, ancillary)
  else receiveBatch(socket, event === EV_MESSAGES_PACED, slab, meta, addresses, ancillary)
}

/** A whole batch as one 'messages' event. */
function emitBatch(socket: Socket, slab: Buffer, columns: Int32Array, addresses: string[] | string, ancillary: NativeAncillary[] | undefined): void {
  const state = stateOf(socket)
  // Datagrams of an earlier batch still being paced as 'message' events go first.
  while (state.inboxes.length > 0 && state.receiving) deliverNext(socket)
  const unix = state.kind === 'unix_dgram'
  let anc: (NativeAncillary | undefined)[] | undefined = ancillary
  if (!state.receiving) {
    if (unix && anc !== undefined) for (const a of anc) if (a !== undefined) closeFds(a.fds)
    return
  }
  const n = columns.length >> 2
  let senders: string[] = typeof addresses === 'string' ? new Array<string>(n).fill(addresses) : addresses
  if (unix && anc !== undefined && !state.unix!.receiveFds) {
    // Descriptors nobody asked for are closed, as on the 'message' path.
    anc = anc.map((a) => {
      if (a === undefined || a.fds.length === 0) return a
      closeFds(a.fds)
      return { ...a, fds: [] }
    })
  }
  const blockList = state.receiveBlockList
  if (blockList !== undefined && !unix) {
    const type = state.family === 6 ? 'ipv6' : 'ipv4'
    const picked = selectColumns(columns, senders, anc, (i) => !blockList.check(senders[i], type))
    if (picked !== null) {
      if (picked.addresses.length === 0) return
      columns = picked.columns
      senders = picked.addresses
      anc = picked.ancillary
    }
  }
  const family = unix ? undefined : state.family === 6 ? 'IPv6' : 'IPv4'
  socket.emit('messages', new MessageBatch(slab, columns, senders, family, anc))
}

/**
 * A native batch (one recvmmsg) waiting to be delivered. The binding hands the batch over once
 * and then calls back once per further datagram, each call its own callback from the event
 * loop as in node:dgram: process.nextTick callbacks and promise reactions queued by one
 * 'message' listener run before the next datagram is delivered.
 */
interface Inbox {
  slab: Buffer
  meta: Int32Array
  /** One sender for the whole batch comes as a single string. */
  addresses: string[] | string
  ancillary: NativeAncillary[] | undefined
  count: number
  next: number
}

/**
 * The uv-poll driver calls back once per further datagram right after this returns (EV_MESSAGES).
 * The thread driver cannot: its callbacks nest in one scope that drains nothing, so it asks the
 * facade to pace the batch (EV_MESSAGES_PACED): one setImmediate per further datagram, and node
 * drains ticks and microtasks between two immediates as between two I/O callbacks.
 */
function receiveBatch(socket: Socket, paced: boolean, slab: Buffer, meta: Int32Array, addresses: string[] | string, ancillary?: NativeAncillary[]): void {
  const state = stateOf(socket)
  const inbox: Inbox = { slab, meta, addresses, ancillary, count: meta.length >> 2, next: 0 }
  const waits = state.inboxes.push(inbox) > 1
  if (!paced) {
    if (!waits) deliverNext(socket)
    return
  }
  // Behind any datagram still being paced, of this socket or another, every datagram of this
  // batch waits its turn: libuv reads one socket's datagrams before it polls the next, so a
  // reply that arrives meanwhile on another socket must not come first.
  const now = pacedTurns.length === 0 && !waits
  for (let k = now ? 1 : 0; k < inbox.count; k++) {
    pacedTurns.push(socket)
    setImmediate(pacedTurn)
  }
  if (now) deliverNext(socket)
}

/** The sockets whose paced datagrams wait, one entry per datagram, in arrival order. */
const pacedTurns: Socket[] = []

/** One paced datagram per immediate; a closed socket's turns are passed over. */
function pacedTurn(): void {
  while (pacedTurns.length > 0) if (deliverNext(pacedTurns.shift()!)) return
}

/**
 * Delivers the inbox's next datagram as one 'message', a view into the batch's slab. False when
 * there was none to deliver (the socket closed meanwhile).
 */
function deliverNext(socket: Socket): boolean {
  const state = stateOf(socket)
  const inbox = state.inboxes[0]
  if (inbox === undefined) return false
  const i = inbox.next++
  if (inbox.next >= inbox.count) state.inboxes.shift()
  if (i >= inbox.count) return false
  const { slab, meta, addresses, ancillary } = inbox
  const unix = state.kind === 'unix_dgram'
  // Closed meanwhile (inside a listener, or in a tick between two datagrams).
  if (!state.receiving) {
    if (unix && ancillary?.[i] !== undefined) closeFds(ancillary[i].fds)
    return false
  }
  const m = i << 2
  const offset = meta[m]
  const length = meta[m + 1]
  const realSize = meta[m + 3]
  const address = typeof addresses === 'string' ? addresses : addresses[i]
  const family = state.family === 6 ? 'IPv6' : 'IPv4'
  const blockList = state.receiveBlockList
  if (blockList !== undefined && !unix && blockList.check(address, family === 'IPv6' ? 'ipv6' : 'ipv4')) return true
  let rinfo: RemoteInfo | UnixRemoteInfo
  if (unix) rinfo = { address, size: length }
  else rinfo = { address, family, port: meta[m + 2], size: length }
  if (realSize !== 0) {
    rinfo.size = realSize
    rinfo.truncated = true
  }
  if (unix && ancillary !== undefined) {
    unixAncillary(state, rinfo as UnixRemoteInfo, ancillary[i])
    const fds = (rinfo as UnixRemoteInfo).fds
    // Descriptors belong to the listeners; with none, nobody can take them.
    if (fds !== undefined && socket.listenerCount('message') === 0) closeFds(fds)
  }
  // recvMetadata (metadata.ts): the binding passes `ancillary` only when some ancillary data
  // was asked for; applyMetadata copies only the fields that are present.
  if (ancillary !== undefined) applyMetadata(rinfo as RemoteInfo, ancillary[i])
  // A lone datagram is the whole slab: no view to make. A throwing listener's exception is
  // uncaught at once, as with node:dgram; the binding goes on with the next datagram.
  socket.emit('message', inbox.count === 1 && length === slab.length ? slab : slab.subarray(offset, offset + length), rinfo)
  return true
}

/** The rest of the undelivered batches: nobody will take their descriptors now, so close them. */
function dropInbox(state: State): void {
  const inboxes = state.inboxes.splice(0)
  if (state.kind !== 'unix_dgram') return
  for (const inbox of inboxes) {
    if (inbox.ancillary === undefined) continue
    for (let i = inbox.next; i < inbox.count; i++) if (inbox.ancillary[i] !== undefined) closeFds(inbox.ancillary[i].fds)
  }
}

/** rinfo's credentials and descriptors; descriptors nobody asked for are closed here. */
function unixAncillary(state: State, rinfo: UnixRemoteInfo, anc: NativeAncillary | undefined): void {
  if (anc === undefined) return
  if (anc.pid !== undefined) {
    rinfo.pid = anc.pid
    rinfo.uid = anc.uid
    rinfo.gid = anc.gid
  }
  if (anc.fds.length > 0) {
    if (state.unix!.receiveFds) rinfo.fds = anc.fds
    else closeFds(anc.fds)
  }
  if (anc.truncated) rinfo.ancillaryTruncated = true
}

/** ICMP errors (setRecvErrors / recvErrors) as 'icmp' events, one per queued error. */
function emitIcmp(socket: Socket, errors: NativeIcmpError[]): void {
  const state = stateOf(socket)
  for (const e of errors) {
    if (state.native === null) return
    try {
      socket.emit('icmp', toIcmpReport(e))
    } catch (err) {
      process.nextTick(rethrow, err)
    }
  }
}

function completeSends(socket: Socket, ids: number[], results: (number | string)[]): void {
  const state = stateOf(socket)
  const hadPending = state.pending.size > 0
  completeEach(socket, state, ids, results)
  // 'drain': everything that had to wait has left (or failed); sends go straight out again.
  if (hadPending && state.pending.size === 0 && state.native !== null) {
    try {
      socket.emit('drain')
    } catch (err) {
      process.nextTick(rethrow, err)
    }
  }
}

function completeEach(socket: Socket, state: State, ids: number[], results: (number | string)[]): void {
  const finished = takeFinished(state.pending, ids)
  for (let i = 0; i < finished.length; i++) {
    const pending = finished[i]
    if (pending === undefined) continue
    const result = results[i]
    try {
      if (typeof result === 'number') {
        pending.callback?.(null, result)
      } else {
        const err = exceptionWithHostPort(result, 'send', pending.address, pending.port)
        if (pending.callback) pending.callback(err, 0)
        else if (pending.emitWithoutCallback && state.native !== null) socket.emit('error', err)
      }
    } catch (err) {
      process.nextTick(rethrow, err)
    }
  }
}

function cancelSends(cancelled: PendingSend[]): void {
  for (const pending of cancelled) {
    if (!pending.callback) continue
    try {
      pending.callback(exceptionWithHostPort('ECANCELED', 'send', pending.address, pending.port), 0)
    } catch (err) {
      process.nextTick(rethrow, err)
    }
  }
}

function emitError(socket: Socket, err: Error): void {
  socket.emit('error', err)
}

function emitClose(socket: Socket): void {
  socket.emit('close')
}

function rethrow(err: unknown): never {
  throw err
}

// ---- options ------------------------------------------------------------------------------------

/**
 * Sets a socket option the way node:dgram's handle does: on a closed socket our coded
 * NOT_RUNNING (node: an uncoded TypeError), then libuv's own range check (EINVAL), then EBADF
 * while libuv would not have created the descriptor yet, then the kernel's answer.
 */
function setOption(state: State, syscall: string, apply: (native: NativeHandle) => void, invalid = false): void {
  const native = openHandle(state)
  if (invalid) throw errnoException('EINVAL', syscall)
  if (!state.hasFd) throw errnoException('EBADF', syscall)
  try {
    apply(native)
  } catch (e) {
    throw fromNative(e, syscall)
  }
}

/** What libuv's uv_udp_set_multicast_interface can parse: an IPv4 or IPv6 literal (with zone). */
function isInterfaceLiteral(iface: string): boolean {
  const zone = iface.indexOf('%')
  return isIP(iface) !== 0 || (zone > 0 && isIP(iface.slice(0, zone)) === 6)
}

/**
 * libuv binds an unbound socket to the wildcard address (with SO_REUSEADDR) before a
 * membership call, while node:dgram stays UNBOUND: no 'listening', and a later bind fails with
 * EINVAL. We reproduce that so code that relies on it behaves the same.
 */
function implicitMembershipBind(state: State, syscall: string, group: string): void {
  if (state.hasFd || state.kind === 'unix_dgram') return
  const family = isIP(group)
  if (family === 0) throw errnoException('EINVAL', syscall)
  if (family !== state.family) return
  try {
    state.native!.bind(family === 4 ? '0.0.0.0' : '::', 0, BIND_REUSE_ADDR)
  } catch (e) {
    throw errnoException(nativeCode(e), syscall)
  }
  state.hasFd = true
}


// ---- membership ---------------------------------------------------------------------------------

function membership(state: State, syscall: 'addMembership' | 'dropMembership', group: unknown, iface: unknown): void {
  healthCheck(state)
  if (!group) throw ERR_MISSING_ARGS('multicastAddress')
  const groupText = String(group)
  const ifaceText = iface === undefined || iface === null ? null : String(iface)
  implicitMembershipBind(state, syscall, groupText)
  try {
    state.native![syscall](groupText, ifaceText)
  } catch (e) {
    throw fromNative(e, syscall)
  }
}

function sourceMembership(
  state: State,
  syscall: 'addSourceSpecificMembership' | 'dropSourceSpecificMembership',
  source: unknown,
  group: unknown,
  iface: unknown,
): void {
  healthCheck(state)
  validateString(source, 'sourceAddress')
  validateString(group, 'groupAddress')
  const ifaceText = iface === undefined || iface === null ? null : String(iface)
  implicitMembershipBind(state, syscall, group)
  try {
    state.native![syscall](source, group, ifaceText)
  } catch (e) {
    throw fromNative(e, syscall)
  }
}

function bufferSize(state: State, size: number, recv: boolean): number {
  // node:dgram's `size >>> 0 !== size`, without its uncoded TypeError for a BigInt or Symbol.
  if (typeof size !== 'number' || size >>> 0 !== size) throw ERR_SOCKET_BAD_BUFFER_SIZE()
  const native = openHandle(state)
  const fn = recv ? 'uv_recv_buffer_size' : 'uv_send_buffer_size'
  if (size > 0x7fffffff) throw ERR_SOCKET_BUFFER_SIZE('EINVAL', fn)
  if (!state.hasFd) throw ERR_SOCKET_BUFFER_SIZE('EBADF', fn)
  try {
    if (size === 0) return recv ? native.getRecvBufferSize() : native.getSendBufferSize()
    if (recv) native.setRecvBufferSize(size)
    else native.setSendBufferSize(size)
    return size
  } catch (e) {
    throw ERR_SOCKET_BUFFER_SIZE(nativeCode(e), fn)
  }
}

export type { SystemError }
