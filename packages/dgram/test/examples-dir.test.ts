// Every runnable example in the repository's examples/ folder (and the demo, scripts/demo.mjs)
// runs to completion twice in a row and prints what it promises, leaving nothing behind in its
// temp directory, so none of them rots or works only once.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { isDeno } from './runtime'
import { timeScale } from './time-scale'

const dir = path.resolve(__dirname, '..', '..', '..', 'examples')
const examples = fs.readdirSync(dir).filter((f) => f.endsWith('.mjs')).sort()

// What each known example must print; examples not listed must at least exit cleanly.
const expected: Record<string, RegExp[]> = {
  'syslog-local.mjs': [/^<134>\w{3} [ \d]\d \d\d:\d\d:\d\d \S+ example\[\d+\]: service started$/m, /^<132>.* disk 91% full$/m, /^<11>1 \S+ \S+ example \d+ REQ \[req@32473 id="42" route="\/home"\] request failed$/m],
  'sd-notify-service.mjs': [/notify\(\) is a no-op -> false/, /manager got: READY=1 \| STATUS=serving \| MAINPID=\d+/, /manager got: WATCHDOG=1/, /manager got: STOPPING=1/],
  'multicast-discovery.mjs': [/found alpha \(service port 7001\)/, /found beta \(service port 7002\)/],
  'dns-style-server.mjs': [/alpha\.local -> 10\.0\.0\.1/, /beta\.local -> 10\.0\.0\.2/, /gamma\.local -> NXDOMAIN/],
  'reuseport-workers.mjs': [/workers share udp4 127\.0\.0\.1:\d+ \(reusePort\)/, /worker 0: \d+ datagrams/],
  '../scripts/demo.mjs': [/All round trips completed\./],
  'dogstatsd-uds.mjs': [/agent received 10002 metrics \(sent 10002\)/, /latency:12\.5\|h\|#db/],
}

// Examples that serve until stopped have a self-contained demo mode.
const args: Record<string, () => string[]> = {
  'reuseport-workers.mjs': () => ['--demo', '--port', String(20_000 + Math.floor(Math.random() * 40_000))],
}

function run(file: string, tmp: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [file, ...(args[file]?.() ?? [])], { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NOTIFY_SOCKET: undefined, TMPDIR: tmp } })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d) => (stdout += d))
    child.stderr.on('data', (d) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000 * timeScale)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })
}

describe('examples/', () => {
  it('has the examples the docs promise', () => {
    for (const name of Object.keys(expected).filter((n) => !n.startsWith('../'))) expect(examples).toContain(name)
  })

  // reuseport-workers.mjs's workers end with parentPort.close(), which Deno's worker_threads lacks.
  it.for([...examples, '../scripts/demo.mjs'].map((f): [string] => [f]))('%s runs to completion, twice, and cleans up', { timeout: 90_000 * timeScale }, async ([file], { skip }) => {
    skip(isDeno && file === 'reuseport-workers.mjs', "Deno's worker_threads has no parentPort.close()")
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'ex-'))
    try {
      for (const attempt of [1, 2]) {
        const { code, stdout, stderr } = await run(file, tmp)
        expect(stderr, `run ${attempt}`).toBe('')
        expect(code, `run ${attempt}`).toBe(0)
        for (const pattern of expected[file] ?? []) expect(stdout).toMatch(pattern)
      }
      expect(fs.readdirSync(tmp)).toEqual([])
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true })
    }
  })
})
