// Which JavaScript runtime runs the tests. Under Bun or Deno, process.execPath is that runtime
// and its node:dgram is its own; real Node stays the reference for node:dgram.

import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'

const versions = process.versions as Record<string, string | undefined>

export const isBun = typeof versions.bun === 'string'
export const isDeno = typeof (globalThis as { Deno?: unknown }).Deno === 'object'
/** Bun or Deno: their own node:dgram is not the reference, real Node's is (see golden.ts). */
export const foreignRuntime = isBun || isDeno
/**
 * The executable that runs node:dgram as the reference: real Node, whatever runs the tests; under
 * Bun and Deno the release they claim to be (DGRAMX_REFERENCE_NODE, as test/child.ts uses).
 */
export const referenceNode = foreignRuntime ? (process.env.DGRAMX_REFERENCE_NODE ?? nodeOnPath()) : process.execPath

// An absolute path, as exec(3) without a PATH search (python's os.execv) needs.
function nodeOnPath(): string {
  for (const dir of (process.env.PATH ?? '').split(path.delimiter)) {
    const file = path.join(dir, 'node')
    try {
      fs.accessSync(file, fs.constants.X_OK)
      return file
    } catch {
      // Not in this directory.
    }
  }
  return 'node'
}

const evaluated = new Map<string, string>()
/** What `expression` prints in the reference Node (the one that recorded the golden files). */
export function referenceEval(expression: string): string {
  let value = evaluated.get(expression)
  if (value === undefined) {
    value = execFileSync(referenceNode, ['-p', expression], { encoding: 'utf8' }).trim()
    evaluated.set(expression, value)
  }
  return value
}

/** process.versions.node of the reference Node. */
export function referenceNodeVersion(): string {
  return foreignRuntime ? referenceEval('process.versions.node') : process.versions.node
}

function atLeast(version: string, want: [number, number, number]): boolean {
  const have = version.split('.').map(Number)
  for (let i = 0; i < 3; i++) if (have[i] !== want[i]) return have[i] > want[i]
  return true
}

/**
 * True under Bun or Deno when node:dgram's behaviour changed at `version` and the Node version
 * the runtime reports (which the facade follows, src/version.ts) falls on the other side of it
 * than the reference Node's: a recording from that Node cannot judge us then.
 */
export function versionGateDiffers(version: [number, number, number]): boolean {
  return foreignRuntime && atLeast(process.versions.node, version) !== atLeast(referenceNodeVersion(), version)
}

/** How to run a script file with the runtime that runs the tests (Deno: `deno run -A file`). */
export function runtimeCommand(file: string): string[] {
  return isDeno ? [process.execPath, 'run', '-A', file] : [process.execPath, file]
}

/** The drivers a child of this runtime can use: uv-poll needs Node's libuv loop. */
export const childDrivers: string[] = foreignRuntime ? ['thread'] : ['uv-poll', 'thread']
