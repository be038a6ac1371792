// Socket options beyond node:dgram: receive metadata, TOS/DSCP, device binding, path-MTU
// control, ICMP error reporting, forced buffer sizes and per-send control. The Socket methods
// in socket.ts are one-liners into these functions.
//
// Every option either takes effect or throws: ERR_FEATURE_UNAVAILABLE_ON_PLATFORM where the
// OS lacks it, ERR_SOCKET_DGRAM_UNSUPPORTED where the socket type lacks it, or the kernel's
// errno (EPERM, ENODEV, ENOTCONN, ...) as a system error naming the method.

import { isIP } from 'node:net'

import { codedError, ERR_FEATURE_UNAVAILABLE, ERR_SOCKET_DGRAM_IS_CONNECTED, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE, ERR_OUT_OF_RANGE, errnoException, isNativeFailure } from './errors'
import { metadataFlags, type RecvMetadataOptions } from './metadata'
import type { NativeSocket } from './native-types'
import type { SocketType } from './types'
import { validatePort, validateString, validateUint32 } from './validate'

export type MtuDiscoverMode = 'want' | 'do' | 'dont' | 'probe'

/** Options createSocket() accepts on top of node:dgram's. */
export interface AdvancedSocketOptions {
  /** Per-datagram metadata on rinfo (see RecvMetadataOptions); off by default. */
  recvMetadata?: RecvMetadataOptions | boolean | undefined
  /** Report ICMP errors as 'icmp' events (Linux); off by default. */
  recvErrors?: boolean | undefined
}

/** Per-send control for socket.sendWith(). */
export interface SendWithOptions {
  /** Destination port; omit on a connected socket. */
  port?: number | undefined
  /** Destination host (resolved like send()'s address; loopback when omitted). */
  address?: string | undefined
  /** Source address for this datagram: one of this host's addresses (IP_PKTINFO / IPV6_PKTINFO). */
  source?: string | undefined
  /** Leave through this interface (index, as in rinfo.interfaceIndex). */
  interfaceIndex?: number | undefined
  /** TOS / traffic-class byte for this datagram only (DSCP << 2 | ECN), 0-255. */
  tos?: number | undefined
}

const MODES: readonly string[] = ['want', 'do', 'dont', 'probe']
const linux = process.platform === 'linux' || process.platform === 'android'

/** Runs a native option call, turning its failure into a coded error naming `method`. */
export function nativeOption<T>(native: NativeSocket, kind: SocketType, method: string, apply: (n: NativeSocket) => T): T {
  try {
    return apply(native)
  } catch (e) {
    throw optionError(e, kind, method)
  }
}

export function optionError(e: unknown, kind: SocketType, method: string): Error {
  if (!isNativeFailure(e)) return e as Error
  if (e.code === 'ERR_FEATURE_UNAVAILABLE_ON_PLATFORM') return ERR_FEATURE_UNAVAILABLE(`socket.${method}()`)
  if (e.code === 'ERR_SOCKET_DGRAM_UNSUPPORTED') return unsupportedOnType(kind, method)
  if (e.code.startsWith('ERR_')) return codedError(TypeError, e.code, `socket.${method}(): ${e.message}`)
  return errnoException(e.code, method)
}

export function unsupportedOnType(kind: SocketType, method: string): Error {
  return codedError(Error, 'ERR_SOCKET_DGRAM_UNSUPPORTED', `socket.${method}() is not supported on ${kind} sockets`)
}

/**
 * The createSocket options and Socket methods that only mean something for UDP. On a
 * unix_dgram socket every one of them is refused the same way (ERR_SOCKET_DGRAM_UNSUPPORTED),
 * before its arguments are looked at: never a silent no-op, never a kernel errno.
 */
export const UDP_ONLY_OPTIONS = ['reuseAddr', 'reusePort', 'ipv6Only', 'lookup', 'receiveBlockList', 'sendBlockList', 'gso', 'gro', 'recvErrors'] as const
export const UDP_ONLY_METHODS = [
  'setBroadcast',
  'setTTL',
  'setMulticastTTL',
  'setMulticastLoopback',
  'setMulticastInterface',
  'addMembership',
  'dropMembership',
  'addSourceSpecificMembership',
  'dropSourceSpecificMembership',
  'setRecvErrors',
  'setTOS',
  'getTOS',
  'bindToDevice',
  'setMTUDiscover',
  'getPathMTU',
  'sendWith',
] as const
export type UdpOnlyOption = (typeof UDP_ONLY_OPTIONS)[number]
export type UdpOnlyMethod = (typeof UDP_ONLY_METHODS)[number]

/** Throws for the first UDP-only option set (to anything but undefined/false) on a unix socket. */
export function rejectUdpOnlyOptions(options: object): void {
  for (const name of UDP_ONLY_OPTIONS) {
    const value = (options as Record<string, unknown>)[name]
    if (value !== undefined && value !== false) {
      throw codedError(Error, 'ERR_SOCKET_DGRAM_UNSUPPORTED', `option ${name} is not supported on unix_dgram sockets`)
    }
  }
}

export function requireLinux(method: string): void {
  if (!linux) throw ERR_FEATURE_UNAVAILABLE(`socket.${method}()`)
}

export function validateMetadataOptions(value: unknown, name: string): RecvMetadataOptions | boolean {
  if (typeof value === 'boolean') return value
  if (value === null || typeof value !== 'object' || Array.isArray(value)) throw ERR_INVALID_ARG_TYPE(name, ['boolean', 'Object'], value)
  return value as RecvMetadataOptions
}

export function setRecvMetadata(native: NativeSocket, kind: SocketType, options: unknown): void {
  const flags = metadataFlags(validateMetadataOptions(options, 'options'))
  if (flags !== 0) requireLinux('setRecvMetadata')
  nativeOption(native, kind, 'setRecvMetadata', (n) => n.setRecvMetadata(flags))
}

export function setRecvErrors(native: NativeSocket, kind: SocketType, on: unknown): void {
  if (typeof on !== 'boolean') throw ERR_INVALID_ARG_TYPE('flag', 'boolean', on)
  if (kind === 'unix_dgram') throw unsupportedOnType(kind, 'setRecvErrors')
  if (on) requireLinux('setRecvErrors')
  nativeOption(native, kind, 'setRecvErrors', (n) => n.setRecvErrors(on))
}

/** The createSocket() options of this module, applied to a fresh native socket. */
export function applyAdvancedOptions(native: NativeSocket, kind: SocketType, options: AdvancedSocketOptions | undefined): void {
  if (options === undefined) return
  if (options.recvMetadata !== undefined && options.recvMetadata !== false) {
    setRecvMetadata(native, kind, validateMetadataOptions(options.recvMetadata, 'options.recvMetadata'))
  }
  if (options.recvErrors !== undefined && options.recvErrors !== false) setRecvErrors(native, kind, options.recvErrors)
}

export function validateTos(tos: unknown, name: string): number {
  if (typeof tos !== 'number') throw ERR_INVALID_ARG_TYPE(name, 'number', tos)
  if (!Number.isInteger(tos) || tos < 0 || tos > 255) throw ERR_OUT_OF_RANGE(name, 'an integer >= 0 && <= 255', tos)
  return tos
}

export function setTos(native: NativeSocket, kind: SocketType, tos: unknown): number {
  const value = validateTos(tos, 'tos')
  if (kind === 'unix_dgram') throw unsupportedOnType(kind, 'setTOS')
  nativeOption(native, kind, 'setTOS', (n) => n.setTos(value))
  return value
}

export function getTos(native: NativeSocket, kind: SocketType): number {
  if (kind === 'unix_dgram') throw unsupportedOnType(kind, 'getTOS')
  return nativeOption(native, kind, 'getTOS', (n) => n.getTos())
}

export function bindToDevice(native: NativeSocket, kind: SocketType, name: unknown): void {
  validateString(name, 'interfaceName')
  // The kernel stops at the first NUL, so 'lo\0eth0' would quietly bind to lo.
  if (name.includes('\0')) throw ERR_INVALID_ARG_VALUE('interfaceName', name, 'must not contain NUL bytes')
  requireLinux('bindToDevice')
  nativeOption(native, kind, 'bindToDevice', (n) => n.bindToDevice(name))
}

export function setMtuDiscover(native: NativeSocket, kind: SocketType, mode: unknown): void {
  validateString(mode, 'mode')
  if (!MODES.includes(mode)) throw ERR_INVALID_ARG_VALUE('mode', mode, "must be one of 'want', 'do', 'dont', 'probe'")
  if (kind === 'unix_dgram') throw unsupportedOnType(kind, 'setMTUDiscover')
  requireLinux('setMTUDiscover')
  nativeOption(native, kind, 'setMTUDiscover', (n) => n.setMtuDiscover(mode))
}

export function getPathMtu(native: NativeSocket, kind: SocketType): number {
  if (kind === 'unix_dgram') throw unsupportedOnType(kind, 'getPathMTU')
  requireLinux('getPathMTU')
  return nativeOption(native, kind, 'getPathMTU', (n) => n.getPathMtu())
}

export function forceBufferSize(native: NativeSocket, kind: SocketType, recv: boolean, size: unknown): void {
  const method = recv ? 'forceRecvBufferSize' : 'forceSendBufferSize'
  validateUint32(size, 'size')
  if (size === 0 || size > 0x7fffffff) throw ERR_OUT_OF_RANGE('size', '>= 1 && <= 2147483647', size)
  requireLinux(method)
  nativeOption(native, kind, method, (n) => n.setBufferSizeForce(recv, size))
}

/** Checked per-send options; `port`/`address` only when the socket is not connected. */
export interface CheckedSendWith {
  port: number
  address: string | undefined
  source: string | null
  interfaceIndex: number | null
  tos: number | null
}

export function validateSendWith(options: unknown, family: 4 | 6, connected: boolean): CheckedSendWith {
  if (options === null || typeof options !== 'object' || Array.isArray(options)) throw ERR_INVALID_ARG_TYPE('options', 'Object', options)
  const o = options as SendWithOptions
  requireLinux('sendWith')
  let port = 0
  let address: string | undefined
  if (connected) {
    if (o.port !== undefined || o.address !== undefined) {
      throw ERR_SOCKET_DGRAM_IS_CONNECTED()
    }
  } else {
    port = validatePort(o.port, 'options.port')
    if (o.address !== undefined) {
      validateString(o.address, 'options.address')
      address = o.address
    }
  }
  let source: string | null = null
  if (o.source !== undefined) {
    validateString(o.source, 'options.source')
    const v = isIP(o.source)
    if (v === 0 || (family === 4 && v !== 4)) {
      throw ERR_INVALID_ARG_VALUE('options.source', o.source, `must be an IPv${family === 4 ? '4' : '4 or IPv6'} address of this host`)
    }
    source = o.source
  }
  let interfaceIndex: number | null = null
  if (o.interfaceIndex !== undefined) {
    validateUint32(o.interfaceIndex, 'options.interfaceIndex')
    interfaceIndex = o.interfaceIndex
  }
  const tos = o.tos === undefined ? null : validateTos(o.tos, 'options.tos')
  return { port, address, source, interfaceIndex, tos }
}
