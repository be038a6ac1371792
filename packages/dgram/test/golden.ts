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

// JSON has no undefined (a callback's `undefined` and `null` argument differ in node:dgram):
// it is stored as this marker and restored on load.
const UNDEFINED = { $golden: 'undefined' }

function encode(value: unknown, depth = 0): unknown {
  if (value === undefined) return UNDEFINED
  if (depth > 16 || value === null || typeof value !== 'object') return value
  if (Array.isArray(value)) return value.map((v) => encode(v, depth + 1))
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = encode(v, depth + 1)
  return out
}

function decode(value: unknown): unknown {
  if (value === null || typeof value !== 'object') return value
  if ((value as { $golden?: unknown }).$golden === 'undefined') return undefined
  if (Array.isArray(value)) return value.map(decode)
  const out: Record<string, unknown> = {}
  for (const [k, v] of Object.entries(value)) out[k] = decode(v)
  return out
}

export function load(key: string): unknown {
  const data = store().data
  if (!(key in data)) throw new Error(`no recorded node:dgram observation for ${key}: run the Node recording first`)
  return decode(data[key])
}

export function record(key: string, observed: unknown): void {
  if (mode !== 'record') return
  const s = store()
  s.data[key] = encode(observed)
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(s.file, JSON.stringify(s.data))
}

/** What `observe` (a look at node:dgram) gives under Node; its recording under Bun and Deno. */
export function reference<T>(observe: () => T): T {
  const key = nextKey()
  const value = replaying() ? (load(key) as T) : observe()
  record(key, value)
  return value
}

/** As reference, for an observation that takes time. */
export async function referenceAsync<T>(observe: () => Promise<T>): Promise<T> {
  const key = nextKey()
  const value = replaying() ? (load(key) as T) : await observe()
  record(key, value)
  return value
}
