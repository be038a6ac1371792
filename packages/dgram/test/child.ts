// Runs a small CommonJS script in a fresh Node process against either implementation:
// `dgram` inside the script is node:dgram or our built package (dist/).

import { spawn } from 'node:child_process'
import path from 'node:path'
import { referenceNode } from './runtime'
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

export function runScript(source: string, impl: 'node' | 'dgramx', options: { timeoutMs?: number; args?: string[] } = {}): Promise<ChildResult> {
  const modulePath = impl === 'node' ? 'node:dgram' : builtPackage
  const prelude = `const dgram = require(${JSON.stringify(modulePath)});\n`
  return new Promise((resolve, reject) => {
    // node:dgram's run is the reference: real Node's, also under Bun and Deno.
    const child = spawn(impl === 'node' ? referenceNode : process.execPath, [...(options.args ?? []), '-e', prelude + source], {
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
