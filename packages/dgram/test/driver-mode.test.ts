// The two ways readiness reaches JavaScript (crates/dgramx-node/src/wake.rs): uv-poll by
// default on Unix, a reactor thread with DGRAMX_DRIVER=thread (and always on Windows). The whole
// suite runs in both modes in .ci/run; this checks that the switch really switches.
import { spawnSync } from 'node:child_process'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { builtPackage, childExecutable } from './child'
import { foreignRuntime } from './harness'
import { timeScale } from './time-scale'

const script = `
const dgram = require(${JSON.stringify(builtPackage)})
// Through the facade's loader, as the package itself loads it (not native/binding.cjs, which
// picks glibc or musl by the filesystem).
const native = require(${JSON.stringify(path.join(builtPackage, 'dist', 'native.js'))})
if (process.env.HINT) native.setHostLacksLibuv(true)
const a = dgram.createSocket('udp4')
a.on('message', (msg) => {
  console.log(native.driverMode(), msg.toString())
  a.close()
})
a.bind(0, '127.0.0.1', () => {
  const b = dgram.createSocket('udp4')
  b.send('ping', a.address().port, '127.0.0.1', () => b.close())
})
`

function run(env: Record<string, string>, executable = process.execPath): { stdout: string; status: number | null } {
  const r = spawnSync(executable, ['-e', script], {
    env: { ...process.env, DGRAMX_DRIVER: '', ...env },
    encoding: 'utf8',
    timeout: 10_000 * timeScale,
  })
  return { stdout: r.stdout.trim(), status: r.status }
}

describe('driver mode', () => {
  it('uv-poll by default on Unix under Node; the thread on Windows, which has no pollable reactor descriptor, and under Bun and Deno', () => {
    const expected = process.platform === 'win32' || foreignRuntime ? 'thread' : 'uv-poll'
    expect(run({})).toEqual({ stdout: `${expected} ping`, status: 0 })
  })

  it('a reactor thread with DGRAMX_DRIVER=thread; the process still exits once the socket closes', () => {
    expect(run({ DGRAMX_DRIVER: 'thread' })).toEqual({ stdout: 'thread ping', status: 0 })
  })

  // Bun's libuv exports abort when called and Deno has no libuv loop: the facade flags such a
  // host (process.versions.bun / globalThis.Deno) and the default becomes the thread.
  it('the thread when the host is flagged as lacking libuv; DGRAMX_DRIVER still wins', () => {
    expect(run({ HINT: '1' })).toEqual({ stdout: 'thread ping', status: 0 })
    if (process.platform !== 'win32') {
      // uv-poll needs a working libuv: under Bun or Deno the child is the Node they claim to be.
      expect(run({ HINT: '1', DGRAMX_DRIVER: 'uv-poll' }, childExecutable('node'))).toEqual({ stdout: 'uv-poll ping', status: 0 })
    }
  })
})
