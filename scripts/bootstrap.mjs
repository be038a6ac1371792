// The README's two commands (`npm run demo`, `npm test`) land here. On a fresh clone with only
// Node and Rust, this finds the pnpm version pinned in package.json (a global install of exactly
// that version, else `npx pnpm@<version>` from the npm registry — never corepack), installs the
// workspace from the lockfile, builds what the task needs through turbo and runs it.
import { spawnSync } from 'node:child_process'
import { readFileSync } from 'node:fs'
import { fileURLToPath } from 'node:url'
import path from 'node:path'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const task = process.argv[2]
const tasks = { demo, test }
if (!tasks[task]) fail(`usage: node scripts/bootstrap.mjs <${Object.keys(tasks).join('|')}>`)

const env = { ...process.env, TURBO_TELEMETRY_DISABLED: '1', TURBO_NO_UPDATE_NOTIFIER: '1', DO_NOT_TRACK: '1' }

checkNode()
checkCargo()
const pnpm = findPnpm()
run(pnpm, ['install', '--frozen-lockfile', '--reporter=append-only'])
tasks[task]()

function demo() {
  run(pnpm, ['exec', 'turbo', 'run', 'build', '--filter=@dgramx/dgram', '--output-logs=errors-only'])
  run(process.execPath, [path.join(root, 'scripts', 'demo.mjs')])
}

function test() {
  run('cargo', ['test', '--workspace', '--locked'])
  run(pnpm, ['exec', 'turbo', 'run', 'test', '--output-logs=full', '--log-order=grouped'])
}

function checkNode() {
  const major = Number(process.versions.node.split('.')[0])
  if (major < 20) fail(`Node.js >= 20 is required; this is ${process.version}`)
}

function checkCargo() {
  const probe = spawnSync('cargo', ['--version'], { encoding: 'utf8' })
  if (probe.status !== 0) {
    fail('cargo was not found: the native addon is built from source here. Install Rust from https://rustup.rs and retry.')
  }
}

function findPnpm() {
  const pinned = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).packageManager
  const version = /^pnpm@(\d+\.\d+\.\d+)$/.exec(pinned ?? '')?.[1]
  if (!version) fail(`package.json must pin pnpm as "packageManager": "pnpm@x.y.z" (found ${pinned})`)
  const global = spawnSync('pnpm', ['--version'], { encoding: 'utf8', env: { ...env, COREPACK_ENABLE_STRICT: '0' } })
  if (global.status === 0 && global.stdout.trim() === version) return ['pnpm']
  console.log(`> pnpm ${version} is not on PATH; running it through npx from the npm registry`)
  return ['npx', '--yes', `pnpm@${version}`]
}

function run(command, args) {
  const [bin, ...pre] = Array.isArray(command) ? command : [command]
  const all = [...pre, ...args]
  console.log(`> ${[bin, ...all].join(' ')}`)
  const result = spawnSync(bin, all, { cwd: root, env, stdio: 'inherit' })
  if (result.error) fail(`${bin} could not start: ${result.error.message}`)
  if (result.status !== 0) process.exit(result.status ?? 1)
}

function fail(message) {
  console.error(`bootstrap: ${message}`)
  process.exit(1)
}
