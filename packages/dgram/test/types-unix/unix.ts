// Type-check fixture for the unix_dgram API and the helper subpaths, against the built .d.ts.
// Checked by test/unix-types.test.ts with `tsc --noEmit`; never executed.
import fs from 'node:fs'
import { createSocket, type MessageBatch, type RemoteInfo, type SendQueueLimit, type UnixRemoteInfo, type UnixSocket, type UnixSocketOptions } from '@dgramx/dgram'
import { formatNotify, notify, watchdogUsec, type NotifyState } from '@dgramx/dgram/sd-notify'
import { createSyslog, defaultSyslogPaths, findSyslogSocket, formatSyslog, type SyslogSender } from '@dgramx/dgram/syslog'

const limit: SendQueueLimit = { bytes: 1 << 20, datagrams: 1000 }
const options: UnixSocketOptions = { type: 'unix_dgram', unlinkOnClose: true, sendQueueLimit: limit, passCredentials: true, receiveFds: true }
export const s: UnixSocket = createSocket(options)
s.bind({ path: '/run/app.sock', unlinkExisting: 'stale', mode: 0o660, unlinkOnClose: true })
s.bind('@abstract')
s.bind()
s.on('message', (msg, rinfo: UnixRemoteInfo) => {
  const who: number | undefined = rinfo.pid ?? rinfo.uid ?? rinfo.gid
  const fds: number[] = rinfo.fds ?? []
  for (const fd of fds) fs.closeSync(fd)
  if (rinfo.truncated || rinfo.ancillaryTruncated) console.log(who, msg.length, rinfo.size)
  if (rinfo.address) s.send(msg, rinfo.address)
})
s.on('drain', () => {})
s.sendWithFds('x', [0, 1], '/run/peer.sock', (err, bytes) => console.log(err, bytes))
s.sendWithFds(Buffer.from('x'), [0])
s.setPassCredentials(true)
s.setReceiveFds(false)
export const n: number = s.getSendQueueSize() + s.getSendQueueCount()
export const plain: UnixSocket = createSocket({ type: 'unix_dgram', sendQueueLimit: 4096 })

// @ts-expect-error mode is a number
s.bind({ path: '/x', mode: '0660' })
// @ts-expect-error unlinkExisting is a boolean or 'stale'
s.bind({ path: '/x', unlinkExisting: 'always' })
// @ts-expect-error unix-only options are not UDP options
createSocket({ type: 'udp4', sendQueueLimit: 10 })
// @ts-expect-error sendWithFds is a unix_dgram call
createSocket('udp4').sendWithFds('x', [0], '/x')
// @ts-expect-error UDP-only methods are not offered on a unix socket
s.setTTL(4)
// @ts-expect-error UDP-only methods are not offered on a unix socket
s.addMembership('224.0.0.1')
// @ts-expect-error UDP-only methods are not offered on a unix socket
s.setBroadcast(true)
// @ts-expect-error UDP-only options are not unix options
createSocket({ type: 'unix_dgram', reusePort: true })
// @ts-expect-error UDP-only options are not unix options
createSocket({ type: 'unix_dgram', ipv6Only: true })

const state: NotifyState = { ready: true, status: 'up', watchdog: 'trigger', fdstore: true, fdname: 'db', extra: { X: 1 } }
export const sent: Promise<boolean> = notify(state, { fds: [3], socketPath: '@sock', unsetEnvironment: true })
export const text: string = formatNotify(state)
export const usec: number | undefined = watchdogUsec()

const log: SyslogSender = createSyslog({ path: '/dev/log', format: 'rfc5424', facility: 'local0', appName: 'app', msgId: 'M' })
export const done: Promise<void> = log.error('x', { structuredData: { 'a@1': { k: 'v' } }, facility: 'auth' })
export const bytes: Buffer = formatSyslog('info', 'm', { format: 'rfc3164', pid: false })
// @ts-expect-error formats are rfc3164 and rfc5424
createSyslog({ format: 'json' })
createSyslog({ path: ['/run/a.sock', Buffer.from('/run/b.sock'), ...defaultSyslogPaths] }).close()
export const found: string | Buffer | undefined = findSyslogSocket(defaultSyslogPaths)
// @ts-expect-error the defaults are read-only
defaultSyslogPaths.push('/x')

// The batch receive API: typed columns, and rinfo(i) typed after the socket.
s.on('messages', (batch) => {
  const rinfo: UnixRemoteInfo = batch.rinfo(0)
  const lengths: Int32Array = batch.lengths
  const first: Buffer = batch.message(0)
  console.log(rinfo.pid, lengths[0], first.length, batch.data.length, batch.addresses[0], batch.family === undefined)
})
export const udp = createSocket('udp4')
udp.on('messages', (batch: MessageBatch<RemoteInfo>) => {
  const port: number = batch.rinfo(0).port + batch.ports[0] + batch.offsets[0] + batch.truncatedSizes[0]
  console.log(port, batch.count, batch.family)
})
