#!/usr/bin/env node
// Runs Node.js's own dgram tests (test/parallel/test-dgram-*, test/sequential/test-dgram-*)
// against @dgramx/dgram: every `require('dgram')` / `import 'node:dgram'` in the test process,
// and in the processes it forks (cluster, child_process), gets the built facade instead.
//
// A local tool, not a CI leg: it needs a checkout of Node's test/ directory, which CI cannot
// fetch (no GitHub there) and which we do not vendor. Usage:
//
//   node scripts/node-dgram-tests.mjs <node-checkout>/test [--baseline] [--jobs N] [--timeout S] [name-filter]
//
// --baseline runs the same files against the running Node's own node:dgram, to tell a test
// that fails here because of us from one that fails with node itself (a newer Node's test, a
// machine without IPv6 or multicast). Tests that need Node's internals (--expose-internals,
// internalBinding) or the internet cannot apply to a userland module; they are listed with
// the reason and counted apart. Prints one line per test, then `N passed, N failed`.
import { spawn } from 'node:child_process'
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve, sep } from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const facade = join(root, 'packages/dgram/dist/index.js')
const facadeEsm = join(root, 'packages/dgram/dist/index.mjs')

const args = process.argv.slice(2)
let testDir
let baseline = false
let jobs = 2
let timeoutS = 120
let filter = ''
for (let i = 0; i < args.length; i++) {
  const a = args[i]
  if (a === '--baseline') baseline = true
  else if (a === '--jobs') jobs = Number(args[++i])
  else if (a === '--timeout') timeoutS = Number(args[++i])
  else if (testDir === undefined) testDir = resolve(a)
  else filter = a
}
if (testDir === undefined || !existsSync(join(testDir, 'common/index.js'))) {
  console.error('usage: node scripts/node-dgram-tests.mjs <node-checkout>/test [--baseline] [--jobs N] [--timeout S] [name-filter]')
  console.error('(the directory must hold common/index.js and parallel/, as a Node.js checkout\'s test/ does)')
  process.exit(2)
}
if (!baseline && !existsSync(facade)) {
  console.error(`${facade} is missing: run pnpm run build:native && pnpm run build first`)
  process.exit(2)
}

// Why a test cannot run against a userland module, decided from its source: what it reaches
// into that only node:dgram itself has.
const internals = [
  [/kStateSymbol/, "node:dgram's private state (socket[kStateSymbol]: its libuv handle, its queue)"],
  [/internalBinding\(['"]udp_wrap['"]\)/, "node's own UDP handle class (internalBinding('udp_wrap'))"],
  [/internalBinding\(['"]tcp_wrap['"]\)/, "node's own TCP handle class (internalBinding('tcp_wrap'))"],
  [/internalBinding\(['"]uv['"]\)/, "libuv's error constants (internalBinding('uv'))"],
  [/_createSocketHandle/, "node:dgram's internal _createSocketHandle"],
  [/--test-udp-no-try-send/, "Node's test-only flag --test-udp-no-try-send, which makes libuv queue every send"],
]
function notApplicable(source) {
  const uses = internals.filter(([re]) => re.test(source)).map(([, what]) => what)
  return uses.length > 0 ? `uses ${uses.join('; ')}` : null
}

// The hooks live in a temporary directory: NODE_OPTIONS carries them into every child process.
const hookDir = mkdtempSync(join(tmpdir(), 'dgramx-node-tests-'))
const cjsHook = join(hookDir, 'redirect.cjs')
const esmHooks = join(hookDir, 'hooks.mjs')
const esmRegister = join(hookDir, 'register.mjs')
writeFileSync(cjsHook, `'use strict';
const Module = require('node:module');
const load = Module._load;
// The facade's own modules compare with node's (DEP0112 reads node:dgram's prototype): they get node's.
const facadeDir = ${JSON.stringify(dirname(facade) + sep)};
Module._load = function (request, parent, isMain) {
  if ((request === 'dgram' || request === 'node:dgram') && !(parent && parent.filename && parent.filename.startsWith(facadeDir))) return load.call(this, ${JSON.stringify(facade)}, parent, false);
  return load.apply(this, arguments);
};
`)
writeFileSync(esmHooks, `export async function resolve(specifier, context, next) {
  if ((specifier === 'dgram' || specifier === 'node:dgram') && !(context.parentURL || '').startsWith(${JSON.stringify(pathToFileURL(dirname(facadeEsm)).href + '/')})) return { url: ${JSON.stringify(pathToFileURL(facadeEsm).href)}, shortCircuit: true };
  return next(specifier, context);
}
`)
writeFileSync(esmRegister, `import { register } from 'node:module';
register(${JSON.stringify(pathToFileURL(esmHooks).href)});
`)

function listTests() {
  const out = []
  for (const sub of ['parallel', 'sequential']) {
    const dir = join(testDir, sub)
    if (!existsSync(dir)) continue
    for (const name of readdirSync(dir).sort()) {
      if (/^test-dgram-.*\.(m?js)$/.test(name) && name.includes(filter)) out.push(join(sub, name))
    }
  }
  return out
}

// `// Flags: ...` lines are the command-line flags Node's own runner (tools/test.py) passes.
function flagsOf(source) {
  const m = /^\/\/ Flags:(.*)$/m.exec(source)
  return m ? m[1].trim().split(/\s+/).filter(Boolean) : []
}

function run(rel, slot) {
  const file = join(testDir, rel)
  const source = readFileSync(file, 'utf8')
  const reason = notApplicable(source)
  if (reason !== null && !baseline) return Promise.resolve({ rel, status: 'n/a', detail: reason })
  // test/common/tmpdir.js gives each TEST_THREAD_ID its own scratch directory.
  const env = { ...process.env, TEST_THREAD_ID: String(slot) }
  if (!baseline) {
    const preload = `--require=${cjsHook} --import=${pathToFileURL(esmRegister).href}`
    env.NODE_OPTIONS = `${env.NODE_OPTIONS ?? ''} ${preload}`.trim()
  }
  return new Promise((resolveRun) => {
    const child = spawn(process.execPath, [...flagsOf(source), file], { cwd: testDir, env, stdio: ['ignore', 'pipe', 'pipe'] })
    let output = ''
    child.stdout.on('data', (d) => { output += d })
    child.stderr.on('data', (d) => { output += d })
    const timer = setTimeout(() => child.kill('SIGKILL'), timeoutS * 1000)
    child.on('close', (code, signal) => {
      clearTimeout(timer)
      // common.skip() prints a TAP skip line and exits 0.
      const skip = /^1\.\.0 # Skipped: (.*)$/m.exec(output)
      if (code === 0 && skip) resolveRun({ rel, status: 'skipped', detail: skip[1] })
      else if (code === 0) resolveRun({ rel, status: 'passed', detail: '' })
      else resolveRun({ rel, status: 'failed', detail: signal === 'SIGKILL' ? `timed out after ${timeoutS} s` : lastLines(output) })
    })
  })
}

function lastLines(text) {
  const lines = text.trim().split('\n').filter((l) => !/^\s+at /.test(l) && l.trim() !== '' && !l.startsWith('Node.js v'))
  return lines.slice(0, 6).join('\n      ')
}

const tests = listTests()
const target = baseline ? `node:dgram of Node ${process.version}` : `@dgramx/dgram (${facade}) on Node ${process.version}`
console.log(`node's dgram tests from ${testDir} against ${target}: ${tests.length} files`)
const results = []
// Tests in sequential/ must not overlap anything: they run after the parallel ones, alone.
const parallel = tests.filter((t) => t.startsWith('parallel'))
const sequential = tests.filter((t) => !t.startsWith('parallel'))
let next = 0
async function worker(slot) {
  while (next < parallel.length) {
    const r = await run(parallel[next++], slot)
    report(r)
  }
}
function report(r) {
  results.push(r)
  console.log(`${r.status.padEnd(7)} ${r.rel}${r.detail ? `\n      ${r.detail}` : ''}`)
}
await Promise.all(Array.from({ length: Math.max(1, jobs) }, (_, slot) => worker(slot)))
for (const rel of sequential) report(await run(rel, 0))
rmSync(hookDir, { recursive: true, force: true })

const count = (s) => results.filter((r) => r.status === s).length
console.log(`${count('skipped')} skipped (by the test itself on this machine), ${count('n/a')} not applicable (Node internals)`)
console.log(`${count('passed')} passed, ${count('failed')} failed`)
process.exit(count('failed') === 0 ? 0 : 1)
