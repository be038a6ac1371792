'use strict'
// The API of the npm package `unix-dgram` (the optional dependency hot-shots uses for its
// `uds` protocol), built on @dgramx/dgram so it installs without a compiler. Swap it in with
// a package-manager alias: "unix-dgram": "npm:@dgramx/unix-dgram@^0.1.0".
//
// unix-dgram's contract, kept here: bind(), connect(), send() and close() act inside the call;
// 'listening', 'connect', 'error', 'congestion' and send callbacks happen before the call
// returns; errors are `new Error(syscall + ' ' + errno)` with `errno` and `code` the negative
// errno number; a connected send the peer cannot take reports congestion and 'writable' follows
// when it can; there is no 'close' event. unix-dgram's own test files are the acceptance test
// (scripts/ci/unix-dgram-compat.sh). Where this differs, README.md says so.

const { EventEmitter } = require('node:events')
const os = require('node:os')
const dgram = require('@dgramx/dgram')

const { unixSync } = dgram
const { EAGAIN, EBADF, EINVAL } = os.constants.errno
const UNBOUNDED = { bytes: Infinity, datagrams: Infinity, perDestination: { bytes: Infinity, datagrams: Infinity } }

/** unix-dgram's error for a failed system call: errno and code are the negative errno. */
function errnoException(errno, syscall) {
  const e = new Error(syscall + ' ' + errno)
  e.errno = e.code = errno
  e.syscall = syscall
  return e
}

/** unix-dgram's refused-send error: what hot-shots and unix-dgram's tests test for. */
function congestionError() {
  const e = new Error('congestion')
  e.code = 1
  return e
}

/**
 * A failure from @dgramx/dgram in unix-dgram's shape. System errors carry their (negative)
 * errno; the facade's own state errors map to what the kernel says in the same situation;
 * argument errors are thrown as they are (unix-dgram has none: it aborts or truncates).
 */
function fromFacade(err, syscall) {
  if (err && typeof err.errno === 'number' && typeof err.code === 'string' && /^E[A-Z0-9]+$/.test(err.code)) {
    return errnoException(err.errno, syscall)
  }
  if (err && err.code === 'ERR_SOCKET_ALREADY_BOUND') return errnoException(-EINVAL, syscall)
  throw err
}

function congestionLimit(options) {
  const limit = options && options.congestionLimit
  if (limit === undefined) return 1
  if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`options.congestionLimit must be an integer >= 1 (got ${limit})`)
  return limit
}

/** unix-dgram takes any ArrayBufferView (node::Buffer::HasInstance); anything else aborts it. */
function asBuffer(buf) {
  if (Buffer.isBuffer(buf)) return buf
  if (ArrayBuffer.isView(buf)) return Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength)
  const err = new TypeError(`The "buf" argument must be a Buffer, TypedArray or DataView. Received ${buf === null ? 'null' : typeof buf}`)
  err.code = 'ERR_INVALID_ARG_TYPE'
  throw err
}

/** unix-dgram reads offset and length as uint32 and needs them inside the buffer. */
function slice(buf, offset, length) {
  const start = offset >>> 0
  const end = start + (length >>> 0)
  if (end > buf.length) throw new RangeError(`offset + length (${end}) is beyond the buffer (${buf.length} bytes)`)
  return buf.subarray(start, end)
}

class Socket extends EventEmitter {
  constructor(type, listener, options) {
    super()
    if (type != 'unix_dgram') throw new Error('Unsupported socket type: ' + type)
    /**
     * Added: datagrams allowed to wait for a full peer before sends are refused. 1, the
     * default, is unix-dgram's behaviour (the refused datagram is the probe for 'writable').
     */
    this.congestionLimit = congestionLimit(options)
    // congestionLimit is this package's bound (unix-dgram's own semantics: 'congestion', not an
    // error code), so the facade's default send-queue bounds are lifted, not applied twice.
    this._socket = dgram.createSocket({ type: 'unix_dgram', sendQueueLimit: UNBOUNDED })
    this._closed = false
    // A connected send met a full peer: 'writable' is owed once it can take datagrams again.
    this._writableOwed = false
    this.type = type
    this.fd = this._socket[dgram.kNative].fd()
    this._socket.on('message', (buf, rinfo) => {
      // unix-dgram's rinfo: the sender's path, or null when the sender is unnamed.
      this.emit('message', buf, { size: buf.length, address: {}, path: rinfo.address || null })
    })
    // Receive failures only: bind, connect and send report through the calls themselves.
    this._socket.on('error', (err) => this.emit('error', fromFacade(err, err.syscall || 'recv')))
    if (typeof listener === 'function') this.on('message', listener)
  }

  bind(path) {
    let err = null
    if (this._closed) err = errnoException(-EBADF, 'bind')
    else {
      try {
        // unix-dgram leaves the file system alone: an existing file is EADDRINUSE, and the
        // socket file stays after close.
        unixSync.bind(this._socket, path, { unlinkExisting: false, unlinkOnClose: false })
      } catch (e) {
        err = fromFacade(e, 'bind')
      }
    }
    if (err) this.emit('error', err)
    else this.emit('listening')
  }

  connect(path) {
    let err = null
    if (this._closed) err = errnoException(-EBADF, 'connect')
    else {
      try {
        // A datagram socket may be connected again, to another peer.
        if (this.connected) this._socket.disconnect()
        unixSync.connect(this._socket, path)
      } catch (e) {
        err = fromFacade(e, 'connect')
      }
    }
    if (err) {
      this.emit('error', err)
    } else {
      this.connected = true
      this.emit('connect')
    }
  }

  send(buf, offset, length, path, callback) {
    const connected = !!this.connected
    let data = asBuffer(buf)
    if (connected) callback = offset
    else data = slice(data, offset, length)

    let err = null
    let congestion = false
    if (this._closed) {
      err = errnoException(-EBADF, 'send')
    } else if (this._socket.getSendQueueCount() >= this.congestionLimit) {
      // The kernel refused the datagram before this one, which is still waiting: this one is
      // what unix-dgram's sendmsg() would see refused (EAGAIN).
      if (connected) congestion = this._writableOwed = true
      else err = errnoException(-EAGAIN, 'send')
    } else {
      try {
        // A datagram the kernel cannot take yet is kept (and sent when it can), so the
        // caller is told it went; the next send is the one refused.
        const now = unixSync.send(this._socket, data, connected ? null : path, (e) => this._queuedDone(e))
        if (!now && connected) this._writableOwed = true
      } catch (e) {
        err = fromFacade(e, 'send')
      }
    }

    if (typeof callback === 'function') {
      if (err) callback(err)
      else if (congestion) callback(congestionError())
      else callback()
    } else if (err) {
      this.emit('error', err)
    } else if (congestion) {
      this.emit('congestion', buf)
    }
  }

  // compatibility, as in unix-dgram
  sendto(buf, offset, length, path, callback) {
    return this.send(buf, offset, length, path, callback)
  }

  close() {
    if (this._closed) throw errnoException(-EBADF, 'close')
    this._closed = true
    this.fd = -1
    this._socket.close()
  }

  /** Added: the bound path, `{ address }` (unix-dgram throws 'not implemented'). */
  address() {
    return this._socket.address()
  }

  /** Added: unix-dgram has no ref()/unref(). */
  ref() {
    this._socket.ref()
    return this
  }

  unref() {
    this._socket.unref()
    return this
  }

  /** The outcome of a datagram that had to wait for the kernel (the caller was told it went). */
  _queuedDone(err) {
    if (this._closed) return
    if (err) this.emit('error', fromFacade(err, 'send'))
    if (this._writableOwed && this._socket.getSendQueueCount() === 0) {
      this._writableOwed = false
      this.emit('writable')
    }
  }
}

// UDP options do not apply to unix datagram sockets; unix-dgram throws for each.
for (const name of ['setTTL', 'setBroadcast', 'setMulticastTTL', 'setMulticastLoopback', 'addMembership', 'dropMembership']) {
  Socket.prototype[name] = function notImplemented() {
    throw new Error('not implemented')
  }
}

/** unix-dgram's entry point: 'unix_dgram' sockets here, 'udp4'/'udp6' from @dgramx/dgram. */
function createSocket(type, listener, options) {
  if (type == 'udp4' || type == 'udp6') return dgram.createSocket(type, listener)
  return new Socket(type, listener, options)
}

module.exports = { createSocket, Socket }
