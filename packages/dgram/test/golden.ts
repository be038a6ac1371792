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
    cache = { file, data: fs.existsSync(file) ? (decode(fs.readFileSync(file, 'utf8')) as Record<string, unknown>) : {} }
  }
  return cache
}

// JSON has no undefined, NaN, infinities, -0 or bigint, and observations hold them (a send()
// returns undefined): each is stored as a tagged object so the replay sees the same value.
const TAG = '\u0000golden'

export function encode(value: unknown): string {
  return JSON.stringify(value, function (this: unknown, key: string, v: unknown) {
    // `v` has already been through toJSON; -0 must be read from the holder.
    const raw = key === '' ? value : (this as Record<string, unknown>)[key]
    if (raw === undefined) return { [TAG]: 'undefined' }
    if (typeof raw === 'bigint') return { [TAG]: 'bigint', v: raw.toString() }
    if (typeof raw === 'number' && !Number.isFinite(raw)) return { [TAG]: String(raw) }
    if (Object.is(raw, -0)) return { [TAG]: '-0' }
    return v
  })
}

export function decode(text: string): unknown {
  // A reviver returning undefined would delete the entry, so the tags are replaced in a walk.
  const revive = (v: unknown): unknown => {
    if (Array.isArray(v)) return v.map(revive)
    if (v === null || typeof v !== 'object') return v
    if (TAG in v) {
      const tag = (v as Record<string, unknown>)[TAG]
      if (tag === 'undefined') return undefined
      if (tag === 'bigint') return BigInt((v as unknown as { v: string }).v)
      if (tag === '-0') return -0
      return Number(tag)
    }
    return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, revive(x)]))
  }
  return revive(JSON.parse(text))
}

export function load(key: string): unknown {
  const data = store().data
  if (!(key in data)) throw new Error(`no recorded node:dgram observation for ${key}: run the Node recording first`)
  return data[key]
}

export function record(key: string, observed: unknown): void {
  if (mode !== 'record') return
  const s = store()
  s.data[key] = observed
  fs.mkdirSync(dir, { recursive: true })
  fs.writeFileSync(s.file, encode(s.data))
}
