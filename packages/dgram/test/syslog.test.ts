// @dgramx/dgram/syslog: framing (RFC 3164 and RFC 5424), facility/severity, and delivery to a
// unix_dgram receiver standing in for /dev/log (never the real one). logger and socat
// comparisons are in peers.test.ts.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixSocket } from '../src/index'
import { createSyslog, defaultSyslogPaths, facilities, findSyslogSocket, formatSyslog, priority, severities } from '../src/syslog'
import { once, tempDir } from './harness'

const when = new Date(2026, 0, 5, 3, 4, 5, 678)

async function daemon(): Promise<{ s: UnixSocket; p: string; got: string[] }> {
  const p = path.join(tempDir(), 'log')
  const s = createSocket('unix_dgram')
  const got: string[] = []
  s.on('message', (m) => got.push(m.toString()))
  s.bind(p)
  await once(s, 'listening')
  return { s, p, got }
}

describe('syslog framing', () => {
  it('PRI is facility * 8 + severity, by name or number', () => {
    expect(priority('user', 'info')).toBe(14)
    expect(priority('local7', 'debug')).toBe(191)
    expect(priority('kern', 'emerg')).toBe(0)
    expect(priority(3, 3)).toBe(27)
    expect(Object.keys(facilities)).toHaveLength(20)
    expect(Object.keys(severities)).toEqual(['emerg', 'alert', 'crit', 'err', 'warning', 'notice', 'info', 'debug'])
    expect(() => priority('nope' as never, 'info')).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => priority('user', 8)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('RFC 3164: <PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG (day padded with a space)', () => {
    const b = formatSyslog('warning', 'disk low', { facility: 'daemon', appName: 'app', hostname: 'box', pid: 7, timestamp: when })
    expect(b.toString()).toBe('<28>Jan  5 03:04:05 box app[7]: disk low')
    const local = formatSyslog('info', 'x', { appName: 'app', hostname: '', pid: false, timestamp: when })
    expect(local.toString()).toBe('<14>Jan  5 03:04:05 app: x')
  })

  it('RFC 5424: <PRI>1 TIMESTAMP HOST APP PROCID MSGID SD MSG, NILVALUE for empty fields', () => {
    const b = formatSyslog('err', 'failed', { format: 'rfc5424', facility: 'local4', appName: 'app', hostname: 'box', pid: 99, msgId: 'ID1', timestamp: when })
    expect(b.toString()).toBe(`<163>1 ${when.toISOString()} box app 99 ID1 - failed`)
    const nil = formatSyslog('info', '', { format: 'rfc5424', appName: 'app', hostname: '', pid: false, timestamp: when })
    expect(nil.toString()).toBe(`<14>1 ${when.toISOString()} - app - - -`)
  })

  it('RFC 5424 structured data is escaped (\\ " ]) and names are checked', () => {
    const b = formatSyslog('info', 'm', {
      format: 'rfc5424',
      appName: 'a',
      hostname: 'h',
      pid: false,
      timestamp: when,
      structuredData: { 'origin@32473': { ip: '10.0.0.1', note: 'a "quoted" \\ ] value' }, meta: { n: 1 } },
    })
    expect(b.toString()).toBe(`<14>1 ${when.toISOString()} h a - - [origin@32473 ip="10.0.0.1" note="a \\"quoted\\" \\\\ \\] value"][meta n="1"] m`)
    expect(() => formatSyslog('info', 'm', { format: 'rfc5424', structuredData: { 'bad id': {} } })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => formatSyslog('info', 'm', { format: 'rfc5424', appName: 'has space' })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    expect(() => formatSyslog('info', 'm', { format: 'json' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('refuses framing characters in every header field of both formats (a line-framed relay would split there)', () => {
    const refused = (options: Parameters<typeof formatSyslog>[2]): void => {
      expect(() => formatSyslog('info', 'm', options), JSON.stringify(options)).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
    }
    for (const bad of ['\n', '\r', '\0', ' ', '\t']) {
      for (const format of ['rfc3164', 'rfc5424'] as const) {
        refused({ format, appName: `app${bad}evil` })
        refused({ format, hostname: `h${bad}x` })
      }
      refused({ format: 'rfc5424', msgId: `m${bad}` })
    }
    // In RFC 3164 the TAG ends at ':' or '['; a name holding them would forge another TAG.
    for (const bad of [':', '[', ']']) refused({ format: 'rfc3164', appName: `app${bad}x` })
    for (const bad of ['\n', '\r', '\0']) refused({ format: 'rfc5424', structuredData: { 'a@1': { k: `v${bad}<13>1 forged` } } })
    // What is allowed still frames as before.
    expect(formatSyslog('info', 'm', { format: 'rfc3164', appName: 'my-app.v2_x', hostname: 'h', pid: false, timestamp: new Date(2026, 0, 2, 3, 4, 5) }).toString()).toBe(
      '<14>Jan  2 03:04:05 h my-app.v2_x: m',
    )
  })

  it('UTF-8 messages are sent as UTF-8', () => {
    expect(formatSyslog('info', 'héllo ✓', { format: 'rfc5424', appName: 'a', hostname: 'h', pid: false, timestamp: when }).toString('utf8')).toMatch(/ héllo ✓$/)
  })
})

describe('SyslogSender', () => {
  it('sends one datagram per message to the given path, each severity method with its PRI', async () => {
    const { s, p, got } = await daemon()
    const log = createSyslog({ path: p, facility: 'local1', appName: 'svc', hostname: 'h', pid: 1 })
    await log.emerg('0')
    await log.alert('1')
    await log.crit('2')
    await log.error('3')
    await log.warning('4')
    await log.notice('5')
    await log.info('6')
    await log.debug('7')
    await log.log('info', 'per-message facility', { facility: 'auth' })
    for (let i = 0; i < 100 && got.length < 9; i++) await new Promise((r) => setTimeout(r, 10))
    expect(got.map((m) => m.match(/^<(\d+)>/)![1])).toEqual(['136', '137', '138', '139', '140', '141', '142', '143', '38'])
    expect(got[6]).toMatch(/^<142>[A-Z][a-z]{2} [ \d]\d \d\d:\d\d:\d\d h svc\[1\]: 6$/)
    log.close()
    await expect(log.info('after close')).rejects.toMatchObject({ code: 'ERR_SOCKET_DGRAM_NOT_RUNNING' })
    s.close()
  })

  it('a missing daemon socket rejects with ENOENT; options are checked at creation', async () => {
    const log = createSyslog({ path: path.join(tempDir(), 'no-daemon') })
    await expect(log.info('lost')).rejects.toMatchObject({ code: 'ENOENT', syscall: 'send' })
    log.close()
    expect(() => createSyslog({ facility: 'nope' as never })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it('a list of candidate paths: each message goes to the first socket that exists', async () => {
    const dir = tempDir()
    const { s, p, got } = await daemon()
    const log = createSyslog({ path: [path.join(dir, 'absent'), p], appName: 'app', pid: false, hostname: '' })
    await log.info('found it')
    for (let i = 0; i < 100 && got.length < 1; i++) await new Promise((r) => setTimeout(r, 10))
    expect(got).toHaveLength(1)
    expect(got[0]).toMatch(/ app: found it$/)
    log.close()
    s.close()
  })

  it('looks again after ENOENT: a daemon that moves to another candidate is found', async () => {
    const dir = tempDir()
    const first = path.join(dir, 'first')
    const second = path.join(dir, 'second')
    const a = createSocket('unix_dgram')
    a.bind(first)
    await once(a, 'listening')
    const log = createSyslog({ path: [first, second], appName: 'app' })
    await log.info('to first')
    a.close()
    await once(a, 'close')
    await expect(log.info('gone')).rejects.toMatchObject({ code: 'ENOENT' })
    const b = createSocket('unix_dgram')
    const got = once(b, 'message')
    b.bind(second)
    await once(b, 'listening')
    await log.info('to second')
    expect(String((await got)[0])).toMatch(/to second$/)
    log.close()
    b.close()
  })

  it('no candidate exists: ERR_SYSLOG_NO_SOCKET naming every path tried', async () => {
    const dir = tempDir()
    const tried = [path.join(dir, 'a'), path.join(dir, 'b')]
    const log = createSyslog({ path: tried })
    const err = await log.info('nowhere').then(() => undefined, (e: unknown) => e)
    expect(err).toMatchObject({ code: 'ERR_SYSLOG_NO_SOCKET', paths: tried })
    expect((err as Error).message).toContain(`tried ${tried.join(', ')}`)
    log.close()
    expect(() => createSyslog({ path: [] })).toThrow(expect.objectContaining({ code: 'ERR_INVALID_ARG_VALUE' }))
  })

  it("defaults to the platform's usual sockets (the real ones are never written to here)", async () => {
    expect(defaultSyslogPaths).toEqual(['/dev/log', '/var/run/syslog', '/var/run/log'])
    const log = createSyslog()
    expect(log.options.path).toBeUndefined()
    if (findSyslogSocket() === undefined) {
      // This machine has no syslog socket: the default sender says so, with a code.
      await expect(log.info('nowhere')).rejects.toMatchObject({ code: 'ERR_SYSLOG_NO_SOCKET', paths: [...defaultSyslogPaths] })
    }
    log.close()
  })
})
