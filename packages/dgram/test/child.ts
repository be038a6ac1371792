// Runs a small CommonJS script in a fresh Node process against either implementation:
// `dgram` inside the script is node:dgram or our built package (dist/).

import { spawn } from 'node:child_process'
import path from 'node:path'
import { timeScale } from './time-scale'

export const builtPackage = path.resolve(__dirname, '..')

export interface ChildResult {
  code: number | null
  signal: NodeJS.Signals | null
  stdout: string
  stderr: string
  /** True when the process was still running at the deadline and had to be killed. */
  killed: boolean
}

/** Bun or Deno (whose own node:dgram is not the reference). */
const foreignRuntime =
  typeof (process.versions as Record<string, string | undefined>).bun === 'string' ||
  typeof (globalThis as { Deno?: unknown }).Deno === 'object'

/**
 * The executable for a child: ours runs under the runtime being tested; node:dgram, the
 * reference, under real Node — under Bun or Deno the Node release they claim to be, which
 * scripts/ci/runtimes.sh installs and names in DGRAMX_REFERENCE_NODE.
 */
export function childExecutable(impl: 'node' | 'dgramx'): string {
  if (impl === 'dgramx' || !foreignRuntime) return process.execPath
  const reference = process.env.DGRAMX_REFERENCE_NODE
  if (!reference) throw new Error('under Bun or Deno, DGRAMX_REFERENCE_NODE must name the Node binary that runs node:dgram')
  return reference
}

export function runScript(source: string, impl: 'node' | 'dgramx', options: { timeoutMs?: number; args?: string[] } = {}): Promise<ChildResult> {
  const modulePath = impl === 'node' ? 'node:dgram' : builtPackage
  const prelude = `const dgram = require(${JSON.stringify(modulePath)});\n`
  return new Promise((resolve, reject) => {
    const child = spawn(childExecutable(impl), [...(options.args ?? []), '-e', prelude + source], {
      stdio: ['ignore', 'pipe', 'pipe'],
    })
    let stdout = ''
    let stderr = ''
    let killed = false
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      killed = true
      child.kill('SIGKILL')
    }, (options.timeoutMs ?? 10_000) * timeScale)
    child.on('error', reject)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      resolve({ code, signal, stdout, stderr, killed })
    })
  })
}
