'use strict'
// The API of the npm package `unix-dgram` (the optional dependency hot-shots uses for its
// `uds` protocol), built on @dgramx/dgram so it installs without a compiler. Swap it in with
// a package-manager alias: "unix-dgram": "npm:@dgramx/unix-dgram@^0.1.0".
//
// Differences from unix-dgram, on purpose: events and callbacks are asynchronous (as in
// node:dgram); errors carry Node's string codes (`code: 'ECONNREFUSED'`, `errno`, `syscall`)
// instead of bare negative numbers; a datagram the peer cannot take yet is queued in order
// and sent when it drains instead of being refused — 'congestion' (and the callback error
// with `code: 'congestion'`) only happens when `congestionLimit` datagrams are already
// waiting, and 'writable' follows once the queue has drained. Added: 'close', ref(), unref(),
// address().

const { EventEmitter } = require('node:events')
const dgram = require('@dgramx/dgram')

const DEFAULT_CONGESTION_LIMIT = 8192

function congestionError() {
  const err = new Error('congestion')
  err.code = 'congestion'
  // unix-dgram's sentinel value, which hot-shots also recognises.
  err.errno = 1
  return err
}

class Socket extends EventEmitter {
  constructor(type, listener, options) {
    super()
    if (type !== 'unix_dgram') throw new Error('Unsupported socket type: ' + type)
    this.type = type
    this.connected = false
    /** Datagrams allowed to wait for a slow peer before sends report congestion. */
    this.congestionLimit = (options && options.congestionLimit) || DEFAULT_CONGESTION_LIMIT
    this._congested = false
    this._socket = dgram.createSocket('unix_dgram')
    this._socket.on('message', (buf, rinfo) => {
      // unix-dgram's rinfo: the sender's path under `path`, `address` an empty object.
      this.emit('message', buf, { size: rinfo.size, address: {}, path: rinfo.address })
    })
    this._socket.on('listening', () => this.emit('listening'))
    this._socket.on('connect', () => this.emit('connect'))
    this._socket.on('close', () => this.emit('close'))
    this._socket.on('error', (err) => this.emit('error', err))
    if (typeof listener === 'function') this.on('message', listener)
  }

  bind(path) {
    this._socket.bind(path)
  }

  connect(path) {
    this._socket.connect(path)
    this.connected = true
  }

  send(buf, offset, length, path, callback) {
    if (this.connected) callback = offset
    if (this._socket.getSendQueueCount() >= this.congestionLimit) {
      this._congested = true
      if (typeof callback === 'function') callback(congestionError())
      else this.emit('congestion', buf)
      return
    }
    const done = (err) => {
      if (this._congested && this._open() && this._socket.getSendQueueCount() === 0) {
        this._congested = false
        this.emit('writable')
      }
      if (typeof callback === 'function') {
        if (err) callback(err)
        else callback()
      }
      // unix-dgram reports failures without a callback as 'error', like unix_dgram here.
      else if (err) this.emit('error', err)
    }
    if (this.connected) this._socket.send(buf, done)
    else this._socket.send(buf, offset, length, path, done)
  }

  sendto(buf, offset, length, path, callback) {
    return this.send(buf, offset, length, path, callback)
  }

  close() {
    this._socket.close()
    this.connected = false
  }

  address() {
    return this._socket.address()
  }

  ref() {
    this._socket.ref()
    return this
  }

  unref() {
    this._socket.unref()
    return this
  }

  _open() {
    try {
      this._socket.getSendQueueCount()
      return true
    } catch {
      return false
    }
  }
}

/** unix-dgram's entry point: 'unix_dgram' sockets here, 'udp4'/'udp6' from @dgramx/dgram. */
function createSocket(type, listener, options) {
  if (type === 'udp4' || type === 'udp6') return dgram.createSocket(type, listener)
  return new Socket(type, listener, options)
}

module.exports = { createSocket, Socket }
