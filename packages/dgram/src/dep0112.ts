// node:dgram's deprecated private members (DEP0112): Socket.prototype._handle, _receiving,
// _bindState, _queue, _reuseAddr, _healthCheck(), _stopReceiving() and dgram._createSocketHandle().
// Libraries still read them (coap checks `_bindState`), so we offer them wherever the running
// node:dgram has them, with node's values and node's warning: util.deprecate is the function
// node:dgram uses, so the DeprecationWarning (code DEP0112) appears once per process, shared with
// node:dgram's own accessors, and --no-deprecation / --throw-deprecation apply as usual.

import * as nodeDgram from 'node:dgram'
import { deprecate } from 'node:util'

/** What the accessors read and write on one socket. */
export interface Dep0112Access<S> {
  get(socket: S, field: Dep0112Field): unknown
  set(socket: S, field: Dep0112Field, value: unknown): void
  healthCheck(socket: S): void
  stopReceiving(socket: S): void
}

export type Dep0112Field = '_handle' | '_receiving' | '_bindState' | '_queue' | '_reuseAddr'

const FIELDS: Dep0112Field[] = ['_handle', '_receiving', '_bindState', '_queue', '_reuseAddr']

const nodeProto = (nodeDgram.Socket as unknown as { prototype: object }).prototype

/** Whether the running node:dgram still has `name` (they may go in a future major). */
function nodeHas(name: string): boolean {
  return Object.getOwnPropertyDescriptor(nodeProto, name) !== undefined
}

export function defineDep0112<S extends object>(proto: S, access: Dep0112Access<S>): void {
  for (const field of FIELDS) {
    if (!nodeHas(field)) continue
    const message = `Socket.prototype.${field} is deprecated`
    Object.defineProperty(proto, field, {
      get: deprecate(function (this: S) {
        return access.get(this, field)
      }, message, 'DEP0112'),
      set: deprecate(function (this: S, value: unknown) {
        access.set(this, field, value)
      }, message, 'DEP0112'),
      // As node:dgram defines them.
      enumerable: false,
      configurable: false,
    })
  }
  const methods = {
    _healthCheck(this: S): void {
      access.healthCheck(this)
    },
    _stopReceiving(this: S): void {
      access.stopReceiving(this)
    },
  }
  for (const [name, fn] of Object.entries(methods)) {
    if (!nodeHas(name)) continue
    Object.defineProperty(proto, name, {
      value: deprecate(fn, `Socket.prototype.${name}() is deprecated`, 'DEP0112'),
      writable: true,
      configurable: true,
      enumerable: true,
    })
  }
}

/**
 * node:dgram's own `_createSocketHandle` (it makes one of node's UDP handles, for node's
 * cluster internals; nothing of ours uses such a handle), already deprecated there.
 */
export const createSocketHandle = (nodeDgram as unknown as { _createSocketHandle?: (...args: unknown[]) => unknown })._createSocketHandle
