// @dgramx/dgram/syslog: a syslog sender over the public unix_dgram API.
//
// One message is one datagram to the system's syslog socket (the first of /dev/log,
// /var/run/syslog on macOS, /var/run/log on FreeBSD that exists), or to any unix_dgram path a syslog daemon, journald or
// a test receiver is bound to), framed per RFC 3164 (BSD: `<PRI>Mmm dd hh:mm:ss HOST TAG[PID]:
// MSG`) or RFC 5424 (`<PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG`). Datagrams need no
// octet counting. Sends are unconnected, so a daemon that restarts (and re-creates its socket)
// keeps receiving without any reconnect logic.

import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'

import { createSocket, type UnixSocket } from './index'
import { codedError, ERR_INVALID_ARG_VALUE, ERR_SOCKET_DGRAM_NOT_RUNNING } from './errors'

export const facilities = {
  kern: 0,
  user: 1,
  mail: 2,
  daemon: 3,
  auth: 4,
  syslog: 5,
  lpr: 6,
  news: 7,
  uucp: 8,
  cron: 9,
  authpriv: 10,
  ftp: 11,
  local0: 16,
  local1: 17,
  local2: 18,
  local3: 19,
  local4: 20,
  local5: 21,
  local6: 22,
  local7: 23,
} as const

export const severities = {
  emerg: 0,
  alert: 1,
  crit: 2,
  err: 3,
  warning: 4,
  notice: 5,
  info: 6,
  debug: 7,
} as const

export type Facility = keyof typeof facilities | number
export type Severity = keyof typeof severities | number
export type SyslogFormat = 'rfc3164' | 'rfc5424'

/** RFC 5424 structured data: `{ 'id@32473': { key: 'value' } }`. */
export type StructuredData = Record<string, Record<string, string | number>>

export interface SyslogOptions {
  /**
   * The daemon's socket, or a list of candidates: each message goes to the first that exists
   * as a socket (looked up again after a send fails with ENOENT or ECONNREFUSED).
   * @default defaultSyslogPaths: '/dev/log', '/var/run/syslog' (macOS), '/var/run/log' (FreeBSD)
   */
  path?: string | Buffer | readonly (string | Buffer)[]
  /** @default 'rfc3164' (what local daemons expect from syslog(3)); 'rfc5424' for the newer framing */
  format?: SyslogFormat
  /** @default 'user' */
  facility?: Facility
  /** TAG (3164) / APP-NAME (5424). @default the main script's file name, or 'node' */
  appName?: string
  /** @default os.hostname(); '' leaves it out (3164) or sends '-' (5424) */
  hostname?: string
  /** The PID shown ([pid] in 3164, PROCID in 5424); false leaves it out. @default process.pid */
  pid?: number | false
  /** RFC 5424 MSGID. */
  msgId?: string
}

export interface LogOptions {
  facility?: Facility
  /** RFC 5424 MSGID for this message. */
  msgId?: string
  /** RFC 5424 structured data for this message. */
  structuredData?: StructuredData
  /** @default now */
  timestamp?: Date
}

/** Where syslog daemons listen: Linux and most systems, macOS, FreeBSD. */
export const defaultSyslogPaths: readonly string[] = Object.freeze(['/dev/log', '/var/run/syslog', '/var/run/log'])

/** The first of `candidates` that is a socket (following symlinks, as /dev/log often is one). */
export function findSyslogSocket(candidates: readonly (string | Buffer)[] = defaultSyslogPaths): string | Buffer | undefined {
  for (const candidate of candidates) {
    try {
      if (fs.statSync(candidate).isSocket()) return candidate
    } catch {
      // Absent or unreadable: try the next one.
    }
  }
  return undefined
}

function noSyslogSocket(candidates: readonly (string | Buffer)[]): Error {
  const tried = candidates.map((c) => String(c))
  const err = codedError(
    Error,
    'ERR_SYSLOG_NO_SOCKET',
    `No syslog socket found (tried ${tried.join(', ')}); is a syslog daemon running? Pass options.path to name its socket`,
  ) as Error & { paths?: string[] }
  err.paths = tried
  return err
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec']

function code(table: Record<string, number>, value: string | number, name: string, max: number): number {
  const n = typeof value === 'number' ? value : table[value]
  if (n === undefined || !Number.isInteger(n) || n < 0 || n > max) throw ERR_INVALID_ARG_VALUE(name, value, 'is not a known syslog ' + name)
  return n
}

/** PRI = facility * 8 + severity. */
export function priority(facility: Facility, severity: Severity): number {
  return code(facilities, facility, 'facility', 23) * 8 + code(severities, severity, 'severity', 7)
}

/** A header field of RFC 5424: printable US-ASCII without spaces, or '-' when empty. */
function field(value: string | undefined, max: number, name: string): string {
  if (value === undefined || value === '') return '-'
  if (!/^[\x21-\x7e]+$/.test(value) || value.length > max) {
    throw ERR_INVALID_ARG_VALUE(name, value, `must be 1 to ${max} printable ASCII characters without spaces`)
  }
  return value
}

function sdName(value: string, name: string): string {
  if (!/^[\x21-\x7e]+$/.test(value) || /[= \]"]/.test(value) || value.length > 32) {
    throw ERR_INVALID_ARG_VALUE(name, value, 'is not a valid RFC 5424 SD-NAME')
  }
  return value
}

function structured(sd: StructuredData | undefined): string {
  if (sd === undefined || Object.keys(sd).length === 0) return '-'
  let out = ''
  for (const [id, params] of Object.entries(sd)) {
    out += `[${sdName(id, 'structuredData id')}`
    for (const [k, v] of Object.entries(params)) {
      const value = String(v)
      // Escaping covers '"', '\\' and ']'; CR, LF and NUL cannot be escaped in RFC 5424 and
      // would split the message on a line-framed relay.
      if (/[\r\n\0]/.test(value)) throw ERR_INVALID_ARG_VALUE(`structuredData.${id}.${k}`, value, 'must not contain CR, LF or NUL')
      out += ` ${sdName(k, 'structuredData param')}="${value.replace(/[\\"\]]/g, (c) => `\\${c}`)}"`
    }
    out += ']'
  }
  return out
}

function timestamp3164(d: Date): string {
  const two = (n: number): string => String(n).padStart(2, '0')
  return `${MONTHS[d.getMonth()]} ${String(d.getDate()).padStart(2, ' ')} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`
}

const TAG = /^[\x21-\x39\x3b-\x5a\x5c\x5e-\x7e]{1,48}$/

function defaultAppName(): string {
  const main = process.argv[1]
  return main ? path.basename(main).replace(/[^\x21-\x39\x3b-\x5a\x5c\x5e-\x7e]+/g, '_').slice(0, 48) || 'node' : 'node'
}

/** The datagram for one message, framed as `options.format` says. */
export function formatSyslog(severity: Severity, message: string, options: SyslogOptions & LogOptions = {}): Buffer {
  const pri = priority(options.facility ?? 'user', severity)
  const when = options.timestamp ?? new Date()
  const host = options.hostname ?? os.hostname()
  const appName = options.appName ?? defaultAppName()
  const pid = options.pid === undefined ? process.pid : options.pid
  if ((options.format ?? 'rfc3164') === 'rfc3164') {
    // The TAG ends at ':' or '[' and the header at a space; a control character (CR, LF, NUL)
    // would split or truncate the message where a relay frames by lines. Printable ASCII only.
    if (!TAG.test(appName)) throw ERR_INVALID_ARG_VALUE('appName', appName, "must be printable ASCII without spaces, ':', '[' or ']' (the TAG)")
    if (host !== '' && !/^[\x21-\x7e]+$/.test(host)) throw ERR_INVALID_ARG_VALUE('hostname', host, 'must be printable ASCII without spaces')
    const tag = pid === false ? appName : `${appName}[${pid}]`
    return Buffer.from(`<${pri}>${timestamp3164(when)} ${host ? `${host} ` : ''}${tag}: ${message}`, 'utf8')
  }
  if (options.format !== 'rfc5424') throw ERR_INVALID_ARG_VALUE('format', options.format, "must be 'rfc3164' or 'rfc5424'")
  const header = [
    `<${pri}>1`,
    when.toISOString(),
    field(host, 255, 'hostname'),
    field(appName, 48, 'appName'),
    field(pid === false ? undefined : String(pid), 128, 'pid'),
    field(options.msgId, 32, 'msgId'),
    structured(options.structuredData),
  ].join(' ')
  return Buffer.from(message === '' ? header : `${header} ${message}`, 'utf8')
}

/** Sends syslog messages; each method resolves once the datagram has left (or rejects). */
export class SyslogSender {
  readonly options: Readonly<SyslogOptions>
  #socket: UnixSocket | null
  /** A fixed path, or the candidates to look through. */
  readonly #path: string | Buffer | readonly (string | Buffer)[]
  #found: string | Buffer | undefined

  constructor(options: SyslogOptions = {}) {
    this.options = { ...options }
    const given = options.path
    if (Array.isArray(given) && given.length === 0) throw ERR_INVALID_ARG_VALUE('path', given, 'must name at least one socket')
    this.#path = given === undefined ? defaultSyslogPaths : Array.isArray(given) ? [...(given as readonly (string | Buffer)[])] : (given as string | Buffer)
    // Checks the framing options now rather than at the first message.
    formatSyslog('info', '', options)
    this.#socket = createSocket('unix_dgram')
  }

  log(severity: Severity, message: string, options: LogOptions = {}): Promise<void> {
    const socket = this.#socket
    if (socket === null) return Promise.reject(ERR_SOCKET_DGRAM_NOT_RUNNING())
    let datagram: Buffer
    try {
      datagram = formatSyslog(severity, message, { ...this.options, ...options })
    } catch (e) {
      return Promise.reject(e)
    }
    const candidates = this.#path
    let target: string | Buffer | undefined
    if (typeof candidates === 'string' || Buffer.isBuffer(candidates)) target = candidates
    else {
      target = this.#found ??= findSyslogSocket(candidates)
      if (target === undefined) return Promise.reject(noSyslogSocket(candidates))
    }
    return new Promise<void>((resolve, reject) => {
      socket.send(datagram, target, (err) => {
        if (!err) return resolve()
        // The daemon went away or moved: look again for the next message.
        const code = (err as NodeJS.ErrnoException).code
        if (code === 'ENOENT' || code === 'ECONNREFUSED') this.#found = undefined
        reject(err)
      })
    })
  }

  emerg(message: string, options?: LogOptions): Promise<void> {
    return this.log('emerg', message, options)
  }
  alert(message: string, options?: LogOptions): Promise<void> {
    return this.log('alert', message, options)
  }
  crit(message: string, options?: LogOptions): Promise<void> {
    return this.log('crit', message, options)
  }
  error(message: string, options?: LogOptions): Promise<void> {
    return this.log('err', message, options)
  }
  warning(message: string, options?: LogOptions): Promise<void> {
    return this.log('warning', message, options)
  }
  notice(message: string, options?: LogOptions): Promise<void> {
    return this.log('notice', message, options)
  }
  info(message: string, options?: LogOptions): Promise<void> {
    return this.log('info', message, options)
  }
  debug(message: string, options?: LogOptions): Promise<void> {
    return this.log('debug', message, options)
  }

  /** Closes the socket; messages still queued fail with ECANCELED. */
  close(): void {
    const socket = this.#socket
    this.#socket = null
    socket?.close()
  }
}

export function createSyslog(options?: SyslogOptions): SyslogSender {
  return new SyslogSender(options)
}
