// @dgramx/dgram/sd-notify: systemd's sd_notify(3) protocol over the public unix_dgram API.
//
// The service manager names a datagram socket in $NOTIFY_SOCKET: a filesystem path, or a Linux
// abstract name written '@name'. Each notification is one datagram of newline-separated
// KEY=VALUE assignments; FDSTORE=1 carries descriptors with it (SCM_RIGHTS). Without
// NOTIFY_SOCKET (not started by systemd, or Type= without notify) notify() does nothing and
// resolves to false, like sd_notify() returning 0.

import { createSocket } from './index'
import { codedError, ERR_INVALID_ARG_TYPE, ERR_INVALID_ARG_VALUE } from './errors'

/** The assignments sd_notify(3) knows, as typed fields; `extra` carries any others. */
export interface NotifyState {
  /** READY=1: start-up finished. */
  ready?: boolean
  /** RELOADING=1: reloading configuration (send `ready` when done). */
  reloading?: boolean
  /** STOPPING=1: shutting down. */
  stopping?: boolean
  /** STATUS=…: a one-line status shown by `systemctl status`. */
  status?: string
  /** ERRNO=…: the errno-style reason the service failed. */
  errno?: number
  /** BUSERROR=…: a D-Bus error name the service failed with. */
  busError?: string
  /** MAINPID=…: the service's main process, when it is not the one sending. */
  mainPid?: number
  /** WATCHDOG=1 (true) keeps the watchdog happy; 'trigger' sends WATCHDOG=trigger. */
  watchdog?: boolean | 'trigger'
  /** WATCHDOG_USEC=…: change the watchdog timeout. */
  watchdogUsec?: number
  /** EXTEND_TIMEOUT_USEC=…: ask for more time to start, reload or stop. */
  extendTimeoutUsec?: number
  /** FDSTORE=1: keep the descriptors passed in `options.fds` across restarts. */
  fdstore?: boolean
  /** FDSTOREREMOVE=1: drop the stored descriptors named `fdname`. */
  fdstoreRemove?: boolean
  /** FDNAME=…: the name for FDSTORE / FDSTOREREMOVE. */
  fdname?: string
  /** FDPOLL=0: do not poll the stored descriptors for errors. */
  fdpoll?: boolean
  /** Further assignments, sent as KEY=VALUE (keys in upper case, like the protocol's). */
  extra?: Record<string, string | number>
}

export interface NotifyOptions {
  /** Descriptors to pass with the datagram (FDSTORE=1 needs at least one). */
  fds?: readonly number[]
  /** Where to send instead of $NOTIFY_SOCKET ('/path', '@abstract' or '\0abstract'). */
  socketPath?: string
  /** Delete NOTIFY_SOCKET from process.env afterwards, so child processes do not inherit it. */
  unsetEnvironment?: boolean
}

const KEY = /^[A-Z][A-Z0-9_]*$/

// systemd splits a notification into assignments at '\n' and also at '\r', so either inside a
// value would smuggle in another assignment (STATUS='x\rMAINPID=1'); and it drops a whole
// datagram that holds a NUL, which would silently lose the READY=1 beside it.
const FRAMING = /[\n\r\0]/

function line(key: string, value: string | number): string {
  const text = String(value)
  if (FRAMING.test(text)) throw ERR_INVALID_ARG_VALUE(`state.${key}`, value, 'must not contain a newline, carriage return or NUL')
  return `${key}=${text}`
}

function integer(key: string, value: unknown): string {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) {
    throw ERR_INVALID_ARG_VALUE(`state.${key}`, value, 'must be a non-negative integer')
  }
  return line(key, value)
}

/** The datagram notify() sends for `state`: 'READY=1\nSTATUS=…' (no trailing newline). */
export function formatNotify(state: NotifyState | string): string {
  if (typeof state === 'string') {
    // A preformatted notification may hold several lines, but a NUL makes systemd drop it all.
    if (state.includes('\0')) throw ERR_INVALID_ARG_VALUE('state', state, 'must not contain NUL')
    return state
  }
  if (state === null || typeof state !== 'object') throw ERR_INVALID_ARG_TYPE('state', ['Object', 'string'], state)
  const out: string[] = []
  if (state.ready) out.push('READY=1')
  if (state.reloading) out.push('RELOADING=1')
  if (state.stopping) out.push('STOPPING=1')
  if (state.status !== undefined) out.push(line('STATUS', state.status))
  if (state.errno !== undefined) out.push(integer('ERRNO', state.errno))
  if (state.busError !== undefined) out.push(line('BUSERROR', state.busError))
  if (state.mainPid !== undefined) out.push(integer('MAINPID', state.mainPid))
  if (state.watchdog === 'trigger') out.push('WATCHDOG=trigger')
  else if (state.watchdog) out.push('WATCHDOG=1')
  if (state.watchdogUsec !== undefined) out.push(integer('WATCHDOG_USEC', state.watchdogUsec))
  if (state.extendTimeoutUsec !== undefined) out.push(integer('EXTEND_TIMEOUT_USEC', state.extendTimeoutUsec))
  if (state.fdstore) out.push('FDSTORE=1')
  if (state.fdstoreRemove) out.push('FDSTOREREMOVE=1')
  if (state.fdname !== undefined) out.push(line('FDNAME', state.fdname))
  if (state.fdpoll === false) out.push('FDPOLL=0')
  for (const [key, value] of Object.entries(state.extra ?? {})) {
    if (!KEY.test(key)) throw ERR_INVALID_ARG_VALUE('state.extra', key, 'keys must be upper-case letters, digits and _')
    out.push(line(key, value))
  }
  return out.join('\n')
}

/**
 * Sends a notification to the service manager. Resolves to true once sent, to false when
 * there is nowhere to send (NOTIFY_SOCKET unset or empty): a no-op outside systemd. Rejects
 * with the send's error otherwise (for example ECONNREFUSED when the manager is gone).
 */
export function notify(state: NotifyState | string, options: NotifyOptions = {}): Promise<boolean> {
  let message: string
  try {
    message = formatNotify(state)
    if (typeof state === 'object' && state.fdstore && !options.fds?.length) {
      throw ERR_INVALID_ARG_VALUE('options.fds', options.fds, 'must hold the descriptors to store when state.fdstore is set')
    }
  } catch (e) {
    return Promise.reject(e)
  }
  const target = options.socketPath ?? process.env.NOTIFY_SOCKET
  if (options.unsetEnvironment) delete process.env.NOTIFY_SOCKET
  if (!target) return Promise.resolve(false)
  if (!/^[/@\0]/.test(target)) {
    // systemd also knows vsock:CID:PORT (in VMs); not a unix socket, so not ours to reach.
    return Promise.reject(
      codedError(Error, 'ERR_SD_NOTIFY_UNSUPPORTED_SOCKET', `NOTIFY_SOCKET ${JSON.stringify(target)} is neither an absolute path nor an abstract name ('@name')`),
    )
  }
  return new Promise<boolean>((resolve, reject) => {
    const socket = createSocket('unix_dgram')
    const done = (err: Error | null): void => {
      socket.close()
      if (err) reject(err)
      else resolve(true)
    }
    try {
      if (options.fds?.length) socket.sendWithFds(message, options.fds, target, done)
      else socket.send(message, target, done)
    } catch (e) {
      socket.close()
      reject(e)
    }
  })
}

/**
 * The watchdog interval systemd expects WATCHDOG=1 within, in microseconds, or undefined when
 * the watchdog is off for this process (WATCHDOG_USEC unset, or WATCHDOG_PID names another
 * process). Notify at about half of it.
 */
export function watchdogUsec(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const usec = Number(env.WATCHDOG_USEC)
  if (!env.WATCHDOG_USEC || !Number.isSafeInteger(usec) || usec <= 0) return undefined
  if (env.WATCHDOG_PID && Number(env.WATCHDOG_PID) !== process.pid) return undefined
  return usec
}

/** Whether NOTIFY_SOCKET is set, i.e. whether notify() would send anything. */
export function notifySocket(env: NodeJS.ProcessEnv = process.env): string | undefined {
  return env.NOTIFY_SOCKET || undefined
}
