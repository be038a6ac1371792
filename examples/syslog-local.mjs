// Syslog to a local socket: what `logger(1)` or syslog(3) do, from Node. A receiver bound to
// a temp path stands in for /dev/log here; in production leave `path` out (it defaults to
// /dev/log) and journald or rsyslog receives the lines.
import { createSocket, promises } from '@dgramx/dgram'
import { createSyslog } from '@dgramx/dgram/syslog'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const dir = mkdtempSync(path.join(tmpdir(), 'syslog-example-'))
const devLog = path.join(dir, 'log')

const daemon = createSocket('unix_dgram')
const received = []
daemon.on('message', (msg) => received.push(msg.toString()))
await promises.bind(daemon, devLog)

const bsd = createSyslog({ path: devLog, appName: 'example', facility: 'local0' })
await bsd.info('service started')
await bsd.warning('disk 91% full')

const modern = createSyslog({ path: devLog, appName: 'example', format: 'rfc5424' })
await modern.error('request failed', { msgId: 'REQ', structuredData: { 'req@32473': { id: 42, route: '/home' } } })

// The receiver reads on this same thread: let the event loop run until it has them (bounded).
for (let i = 0; i < 200 && !(received.length === 3); i++) await new Promise((resolve) => setTimeout(resolve, 5))
for (const line of received) console.log(line)
bsd.close()
modern.close()
daemon.close()
rmSync(dir, { recursive: true, force: true })
if (received.length !== 3) {
  console.error(`expected 3 lines, got ${received.length}`)
  process.exit(1)
}
