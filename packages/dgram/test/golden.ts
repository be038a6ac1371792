// Observations of real Node's node:dgram, recorded by a Node run and replayed under Bun and
// Deno, whose own node:dgram differs from Node's (error shapes, event order): comparing with
// it would test that runtime, not us. DGRAMX_GOLDEN_DIR names the directory;
// DGRAMX_GOLDEN=record (under Node) writes one file per test file, DGRAMX_GOLDEN=replay reads it.
import fs from 'node:fs'
import path from 'node:path'
import { expect } from 'vitest'

const dir = process.env.DGRAMX_GOLDEN_DIR ?? ''
const mode = dir ? process.env.DGRAMX_GOLDEN : undefined
const counters = new Map<string, number>()
let cache: { file: string; data: Record<string, unknown> } | undefined

export function replaying(): boolean {
  return mode === 'replay'
}

/** A key for the next comparison: the test's full name and how many it made before. */
export function nextKey(): string {
  const name = expect.getState().currentTestName ?? '?'
  const n = counters.get(name) ?? 0
  counters.set(name, n + 1)
  return `${name}#${n}`
}

function store(): { file: string; data: Record<string, unknown> } {
  const file = path.join(dir, `${path.basename(expect.getState().testPath ?? 'unknown')}.json`)
  if (cache?.file !== file) {
    cache = { file, data: fs.existsSync(file) ? (JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {} }
  }
  return cache
}

export function load(key: string): unknown[] {
  const data = store().data
  if (!(key in data)) throw new Error(`no recorded node:dgram observation for ${key}: run the Node recording first`)
  return data[key] as unknown[]
}

export function record(key: string, observed: unknown[]): void {
  if (mode !== 'record') return
  const s = store()
  s.data[key] = observed
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(s.file, JSON.stringify(s.data))
}
