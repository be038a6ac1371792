// Shared test helpers: the two implementations side by side, error shapes, bounded waits and
// a scenario runner that records what a scenario observes so both runs can be compared.

import * as nodeDgram from 'node:dgram'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { afterEach, expect } from 'vitest'
import * as ours from '../src/index'
import * as golden from './golden'
import { timeScale } from './time-scale'

export type Dgram = typeof nodeDgram
export const node = nodeDgram
// Our module as node:dgram-shaped code sees it (only the shared subset is used through this).
export const dgramx = ours as unknown as Dgram
/** Bun or Deno: their own node:dgram is not the reference, real Node's is (see golden.ts). */
export const foreignRuntime =
  typeof (process.versions as Record<string, string | undefined>).bun === 'string' ||
  typeof (globalThis as { Deno?: unknown }).Deno === 'object'
// Under another runtime the 'node:dgram' entry would test that runtime's dgram, not ours.
export const both: [string, Dgram][] = foreignRuntime
  ? [['@dgramx/dgram', dgramx]]
  : [
      ['node:dgram', node],
      ['@dgramx/dgram', dgramx],
    ]

/** Everything an observer can tell about an error. */
export function errorShape(e: unknown): Record<string, unknown> {
  if (!(e instanceof Error)) return { notAnError: e }
  const shape: Record<string, unknown> = {
    // node's coded errors sit on per-code subclasses whose `constructor` is the base class.
    class: (e as { constructor?: { name?: string } }).constructor?.name,
    isTypeError: e instanceof TypeError,
    isRangeError: e instanceof RangeError,
    name: e.name,
    message: e.message,
    string: String(e),
    keys: Object.keys(e).sort(),
  }
  for (const k of ['code', 'errno', 'syscall', 'address', 'port', 'info', 'hostname']) {
    if (k in e) shape[k] = (e as unknown as Record<string, unknown>)[k]
  }
  return shape
}

/** The outcome of a synchronous call: its return value or the shape of what it threw. */
export function outcome(fn: () => unknown): Record<string, unknown> {
  try {
    const value = fn()
    return { returned: value === undefined ? 'undefined' : typeof value === 'object' ? value : value }
  } catch (e) {
    return { threw: errorShape(e) }
  }
}

export function withTimeout<T>(p: Promise<T>, baseMs: number, what: string): Promise<T> {
  const ms = baseMs * timeScale
  let timer: NodeJS.Timeout
  return Promise.race([
    p.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms)
    }),
  ])
}

/** Resolves with the arguments of the next `event`, or fails after `ms`. */
export function once(emitter: NodeJS.EventEmitter, event: string, ms = 5000): Promise<unknown[]> {
  return withTimeout(
    new Promise<unknown[]>((resolve) => emitter.once(event, (...args: unknown[]) => resolve(args))),
    ms,
    `'${event}'`,
  )
}

/** Polls `cond` every `every` ms until it holds or `ms` pass, then asserts it. */
export async function until(cond: () => boolean, what: string, ms = 6000, every = 10): Promise<void> {
  const rounds = Math.ceil(ms / every)
  await withTimeout(
    (async () => {
      for (let i = 0; i < rounds && !cond(); i++) await new Promise((r) => setTimeout(r, every))
    })(),
    ms + 1000,
    what,
  )
  expect(cond(), what).toBe(true)
}

/** Returns `track(socket)`: sockets passed to it are closed after each test of the file. */
export function socketTracker(): <S extends { close(): unknown }>(s: S) => S {
  const open: { close(): unknown }[] = []
  afterEach(() => {
    for (const s of open.splice(0)) {
      try {
        s.close()
      } catch {
        // Already closed by the test.
      }
    }
  })
  return (s) => {
    open.push(s)
    return s
  }
}

export function tick(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve))
}

export function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'dgramx-test-'))
}

export interface Ctx {
  dgram: Dgram
  name: string
  /** Records an observation; registered aliases replace run-specific values (ports). */
  rec: (...items: unknown[]) => void
  /** Makes `value` (a port) appear as `token` in every later observation. */
  alias: (value: number, token: string) => void
  /** Sockets created through this are closed after the scenario if still open. */
  track: <S extends nodeDgram.Socket>(s: S) => S
  /** Resolves when `ctx.done()` is called; the scenario's bounded wait. */
  finished: Promise<void>
  done: () => void
}

function replaceAliases(value: unknown, aliases: Map<number, string>, depth = 0): unknown {
  if (depth > 8) return '[too deep]'
  if (typeof value === 'number' && aliases.has(value)) return aliases.get(value)
  if (typeof value === 'string') {
    let s = value
    for (const [port, token] of aliases) s = s.split(String(port)).join(token)
    return s
  }
  if (Array.isArray(value)) return value.map((v) => replaceAliases(v, aliases, depth + 1))
  if (Buffer.isBuffer(value)) return `Buffer<${value.toString('hex')}>`
  if (value instanceof Error) return replaceAliases(errorShape(value), aliases, depth + 1)
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = replaceAliases(v, aliases, depth + 1)
    return out
  }
  return value
}

export async function runScenario(dgram: Dgram, name: string, scenario: (ctx: Ctx) => void | Promise<void>, ms = 5000): Promise<unknown[]> {
  const log: unknown[] = []
  const aliases = new Map<number, string>()
  const sockets: nodeDgram.Socket[] = []
  let done!: () => void
  const finished = new Promise<void>((resolve) => {
    done = resolve
  })
  const ctx: Ctx = {
    dgram,
    name,
    rec: (...items) => log.push(replaceAliases(items.length === 1 ? items[0] : items, aliases)),
    alias: (value, token) => aliases.set(value, token),
    track: (s) => {
      sockets.push(s)
      return s
    },
    finished,
    done: () => done(),
  }
  try {
    await withTimeout(Promise.resolve(scenario(ctx)).then(() => finished), ms, `scenario on ${name}`)
  } finally {
    for (const s of sockets) {
      try {
        s.close()
      } catch {
        // already closed
      }
    }
  }
  // Let close events and stray callbacks settle before the next run.
  await tick()
  await tick()
  return log
}

/**
 * What `observe` returns when given node:dgram: computed under Node (and recorded when asked),
 * replayed from the recording under Bun and Deno. For comparisons that are no scenario.
 */
export async function onNode<T>(observe: (dgram: Dgram) => T | Promise<T>): Promise<T> {
  const key = golden.nextKey()
  const observed = golden.replaying() ? (golden.load(key) as T) : await observe(node)
  golden.record(key, observed)
  return observed
}

/** Runs the scenario on node:dgram and on ours and expects identical observations. */
export async function sameAsNode(scenario: (ctx: Ctx) => void | Promise<void>, ms = 5000): Promise<unknown[]> {
  const key = golden.nextKey()
  const expected = golden.replaying() ? (golden.load(key) as unknown[]) : await runScenario(node, 'node:dgram', scenario, ms)
  golden.record(key, expected)
  const actual = await runScenario(dgramx, '@dgramx/dgram', scenario, ms)
  // Two empty traces would agree about nothing.
  expect(expected.length, 'the scenario recorded nothing on node:dgram').toBeGreaterThan(0)
  expect(actual).toEqual(expected)
  return expected
}
