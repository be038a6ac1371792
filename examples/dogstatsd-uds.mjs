// DogStatsD over a Unix socket: metrics as StatsD lines, one per datagram, to the agent's
// socket (/var/run/datadog/dsd.socket in production). A connected unix_dgram socket never
// loses a metric when the agent is slow: sends wait in order instead of failing with EAGAIN.
// A local receiver stands in for the agent here.
import { createSocket, promises } from '@dgramx/dgram'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'

const dir = mkdtempSync(path.join(tmpdir(), 'dsd-example-'))
const agentPath = path.join(dir, 'dsd.socket')
const agent = createSocket('unix_dgram')
const lines = []
agent.on('message', (msg) => lines.push(msg.toString()))
await promises.bind(agent, agentPath)

const statsd = createSocket('unix_dgram')
statsd.connect(agentPath)
const metric = (name, value, type, tags = []) => `${name}:${value}|${type}${tags.length ? `|#${tags.join(',')}` : ''}`

const COUNT = 10_000
for (let i = 0; i < COUNT; i++) statsd.send(metric('requests', 1, 'c', ['route:home']))
statsd.send(metric('queue.depth', 17, 'g'))
await promises.send(statsd, metric('latency', 12.5, 'h', ['db']))

// The agent reads on this same thread: let the event loop run until it has them (bounded).
for (let i = 0; i < 400 && lines.length < COUNT + 2; i++) await new Promise((resolve) => setTimeout(resolve, 5))
console.log(`agent received ${lines.length} metrics (sent ${COUNT + 2}); last two:`)
for (const line of lines.slice(-2)) console.log(' ', line)
statsd.close()
agent.close()
rmSync(dir, { recursive: true, force: true })
if (lines.length !== COUNT + 2) process.exit(1)
