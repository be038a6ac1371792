// Proof of the distribution path against a real npm registry (verdaccio on loopback, no uplinks):
// publishes the facade and the linux-x64-gnu package built in this run (through
// scripts/publish.mjs, which writes the facade's optionalDependencies), then installs them into
// fresh projects whose PATH holds only node, npm, npx and pnpm (no cc, cargo, python or make):
//   a. npm install @dgramx/dgram, then udp4 and unix_dgram round trips (CJS and ESM);
//   b. the same with pnpm;
//   c. the platform package pinned exactly + the facade, installed with --omit=optional: works;
//   d. --omit=optional and no pinned package: ERR_DGRAMX_NATIVE_NOT_FOUND, asserted on its text;
//   e. a binary whose version differs from the facade's: ERR_DGRAMX_NATIVE_VERSION_MISMATCH,
//      both as a mis-built platform package and as a stale hand-pinned one;
// and lints the packed tarballs with publint and @arethetypeswrong/cli.
//
// The nine platform packages this machine cannot build are published too, each holding a
// placeholder file instead of a binary, so the facade's optional dependencies all resolve as on
// npmjs.com; the installs must skip every one of them by os/cpu/libc (asserted).
import { execFileSync, spawn } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const facade = JSON.parse(readFileSync(path.join(root, 'packages/dgram/package.json'), 'utf8'))
const VERSION = facade.version
const [maj, min, pat] = VERSION.split('-')[0].split('.').map(Number)
const OTHER_VERSION = `${maj}.${min}.${pat + 1}-registry-test.0`
const HOST_TUPLE = 'linux-x64-gnu'
const HOST_PKG = `@dgramx/dgram-${HOST_TUPLE}`
const started = Date.now()

const tmp = mkdtempSync(path.join(tmpdir(), 'dgramx-registry-'))
const results = []
let verdaccio

function check(name, fn) {
  const t0 = Date.now()
  try {
    const detail = fn()
    results.push({ name, ok: true })
    console.log(`  ok   ${name} (${((Date.now() - t0) / 1000).toFixed(1)} s)${detail ? `: ${detail}` : ''}`)
  } catch (e) {
    results.push({ name, ok: false })
    console.log(`  FAIL ${name}: ${e instanceof Error ? e.message : e}`)
    if (e?.stdout) console.log(String(e.stdout).slice(-3000))
    if (e?.stderr) console.log(String(e.stderr).slice(-3000))
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

function which(cmd) {
  return realpathSync(execFileSync('sh', ['-c', `command -v ${cmd}`], { encoding: 'utf8' }).trim())
}

async function freePort() {
  return new Promise((resolve, reject) => {
    const srv = net.createServer()
    srv.once('error', reject)
    srv.listen(0, '127.0.0.1', () => {
      const { port } = srv.address()
      srv.close(() => resolve(port))
    })
  })
}

async function startRegistry() {
  const port = await freePort()
  const dir = path.join(tmp, 'verdaccio')
  mkdirSync(dir)
  const config = path.join(dir, 'config.yaml')
  writeFileSync(
    config,
    [
      `storage: ${path.join(dir, 'storage')}`,
      'auth:',
      '  htpasswd:',
      `    file: ${path.join(dir, 'htpasswd')}`,
      '    max_users: 10',
      'uplinks: {}',
      'packages:',
      "  '**':",
      '    access: $all',
      '    publish: $authenticated',
      'web:',
      '  enable: false',
      'log: { type: stdout, format: pretty, level: warn }',
      '',
    ].join('\n'),
  )
  const bin = path.join(here, 'node_modules/verdaccio/bin/verdaccio')
  verdaccio = spawn(process.execPath, [bin, '--config', config, '--listen', `127.0.0.1:${port}`], { stdio: ['ignore', 'pipe', 'pipe'] })
  let log = ''
  verdaccio.stdout.on('data', (d) => (log += d))
  verdaccio.stderr.on('data', (d) => (log += d))
  const url = `http://127.0.0.1:${port}/`
  for (let i = 0; i < 150; i++) {
    try {
      const res = await fetch(`${url}-/ping`)
      if (res.ok) return url
    } catch {
      // not up yet
    }
    if (verdaccio.exitCode !== null) break
    await new Promise((r) => setTimeout(r, 200))
  }
  throw new Error(`verdaccio did not start:\n${log}`)
}

async function createUser(url) {
  const res = await fetch(`${url}-/user/org.couchdb.user:dgramx`, {
    method: 'PUT',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ name: 'dgramx', password: 'registry-test-only', type: 'user', roles: [], date: new Date().toISOString() }),
  })
  const body = await res.json()
  assert(res.ok && body.token, `could not create a registry user: ${res.status} ${JSON.stringify(body)}`)
  return body.token
}

/** A directory holding only node, npm, npx and pnpm: the PATH of the user's machine. */
function sandboxPath() {
  const bin = path.join(tmp, 'bin')
  mkdirSync(bin)
  for (const cmd of ['node', 'npm', 'npx', 'pnpm']) symlinkSync(which(cmd), path.join(bin, cmd))
  return bin
}

function main() {
  return (async () => {
    console.log(`registry test: @dgramx/dgram ${VERSION} through a local verdaccio, in ${tmp}`)
    const built = path.join(root, 'npm', HOST_TUPLE, `dgram.${HOST_TUPLE}.node`)
    assert(existsSync(built), `${built} is missing: build first (pnpm build, or npm test)`)
    assert(existsSync(path.join(root, 'packages/dgram/dist/index.js')), 'packages/dgram/dist is missing: build first')

    const url = await startRegistry()
    const token = await createUser(url)
    const host = new URL(url).host
    const publisherRc = path.join(tmp, 'publisher.npmrc')
    writeFileSync(publisherRc, `registry=${url}\n//${host}/:_authToken=${token}\n`)
    // Nothing inherited from a package manager that started us (pnpm run exports npm_config_*,
    // registry included): every npm call below talks to verdaccio only, and says so with --registry.
    const inherited = Object.fromEntries(Object.entries(process.env).filter(([k]) => !/^(npm|pnpm)_/i.test(k)))
    const publishEnv = { ...inherited, npm_config_userconfig: publisherRc, npm_config_cache: path.join(tmp, 'publisher-cache'), npm_config_update_notifier: 'false' }
    console.log(`verdaccio listening on ${url} (no uplinks)`)

    // Stage npm/: the binary built in this run for linux-x64-gnu, placeholders for the rest.
    const stagedNpm = path.join(tmp, 'npm')
    cpSync(path.join(root, 'npm'), stagedNpm, { recursive: true })
    for (const tuple of readdirSync(stagedNpm)) {
      const file = path.join(stagedNpm, tuple, `dgram.${tuple}.node`)
      if (tuple !== HOST_TUPLE) writeFileSync(file, `placeholder published by the dgramx registry test; not a ${tuple} binary\n`)
    }
    const tarballs = path.join(tmp, 'tarballs')

    check(`publish: ${readdirSync(stagedNpm).length} platform packages, then the facade (scripts/publish.mjs)`, () => {
      const out = execFileSync(process.execPath, [path.join(root, 'scripts/publish.mjs'), '--registry', url, '--npm-dir', stagedNpm, '--pack-dir', tarballs], {
        env: publishEnv,
        encoding: 'utf8',
        stdio: ['ignore', 'pipe', 'pipe'],
      })
      const lines = out.split('\n').filter((l) => l.startsWith('publish: '))
      assert(lines.length === 11 && lines.every((l) => l.startsWith('publish: publish ')), `unexpected publish log:\n${out}`)
      assert(lines.at(-1) === `publish: publish @dgramx/dgram@${VERSION}`, 'the facade was not published last')
      return `${lines.length} published, facade last`
    })

    check('publish again: idempotent, every version already there is skipped', () => {
      const out = execFileSync(process.execPath, [path.join(root, 'scripts/publish.mjs'), '--registry', url, '--npm-dir', stagedNpm], { env: publishEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
      const lines = out.split('\n').filter((l) => l.startsWith('publish: '))
      assert(lines.length === 11 && lines.every((l) => l.startsWith('publish: skip ')), `unexpected:\n${out}`)
      return '11 skipped'
    })

    check('the published facade: optionalDependencies on every platform package at exactly its version, no .node inside', () => {
      const meta = JSON.parse(execFileSync('npm', ['view', `@dgramx/dgram@${VERSION}`, '--json', '--registry', url], { env: publishEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
      const opt = meta.optionalDependencies ?? {}
      assert(Object.keys(opt).length === 10, `expected 10 optional dependencies, got ${JSON.stringify(opt)}`)
      assert(Object.values(opt).every((v) => v === VERSION), `not all exact: ${JSON.stringify(opt)}`)
      const list = execFileSync('tar', ['-tzf', path.join(tarballs, `dgramx-dgram-${VERSION}.tgz`)], { encoding: 'utf8' })
      assert(!/\.node$/m.test(list), `the facade tarball holds a .node:\n${list}`)
      assert(list.includes('package/native/binding.cjs'), 'the facade tarball lacks native/binding.cjs')
      return `${Object.keys(opt).length} exact optional dependencies; ${list.trim().split('\n').length} files`
    })

    // A second release whose binary is not its own version: the linux-x64-gnu package at
    // OTHER_VERSION holding this run's binary (which reports VERSION), and a facade at OTHER_VERSION.
    check(`publish a mis-built ${OTHER_VERSION} (facade + ${HOST_PKG} holding a ${VERSION} binary)`, () => {
      const pkgDir = path.join(tmp, 'other-platform')
      cpSync(path.join(stagedNpm, HOST_TUPLE), pkgDir, { recursive: true })
      const pkg = JSON.parse(readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
      writeFileSync(path.join(pkgDir, 'package.json'), JSON.stringify({ ...pkg, version: OTHER_VERSION }, null, 2))
      execFileSync('npm', ['publish', pkgDir, '--tag', 'registry-test', '--registry', url], { env: publishEnv, stdio: 'pipe' })
      const facadeDir = path.join(tmp, 'other-facade')
      mkdirSync(facadeDir)
      execFileSync('tar', ['-xzf', path.join(tarballs, `dgramx-dgram-${VERSION}.tgz`), '-C', facadeDir, '--strip-components=1'])
      const f = JSON.parse(readFileSync(path.join(facadeDir, 'package.json'), 'utf8'))
      writeFileSync(path.join(facadeDir, 'package.json'), JSON.stringify({ ...f, version: OTHER_VERSION, optionalDependencies: { [HOST_PKG]: OTHER_VERSION } }, null, 2))
      execFileSync('npm', ['publish', facadeDir, '--tag', 'registry-test', '--registry', url], { env: publishEnv, stdio: 'pipe' })
    })

    // The users' side: a PATH without compilers, a fresh HOME and caches.
    const bin = sandboxPath()
    const userEnv = {
      PATH: bin,
      HOME: path.join(tmp, 'home'),
      TMPDIR: tmp,
      npm_config_cache: path.join(tmp, 'user-cache'),
      npm_config_update_notifier: 'false',
      npm_config_fund: 'false',
      npm_config_audit: 'false',
      COREPACK_ENABLE_STRICT: '0',
    }
    mkdirSync(userEnv.HOME)
    check('the users PATH has node, npm, npx and pnpm, and no cc, gcc, cargo, python or make', () => {
      for (const cmd of ['cc', 'gcc', 'c++', 'cargo', 'rustc', 'python', 'python3', 'make']) {
        let found = true
        try {
          execFileSync('/bin/sh', ['-c', `command -v ${cmd}`], { env: userEnv, stdio: 'pipe' })
        } catch {
          found = false
        }
        assert(!found, `${cmd} is reachable`)
      }
      return readdirSync(bin).join(', ')
    })

    const project = (name, deps = {}) => {
      const dir = path.join(tmp, name)
      mkdirSync(dir)
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies: deps }, null, 2))
      writeFileSync(path.join(dir, '.npmrc'), `registry=${url}\n`)
      writeFileSync(path.join(dir, 'roundtrip.cjs'), ROUNDTRIP_CJS)
      writeFileSync(path.join(dir, 'roundtrip.mjs'), ROUNDTRIP_MJS)
      writeFileSync(path.join(dir, 'load.cjs'), LOAD_CJS)
      return dir
    }
    const sh = (dir, cmd, args) => execFileSync(cmd, args, { cwd: dir, env: userEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 180_000 })
    const installed = (dir) => readdirSync(path.join(dir, 'node_modules/@dgramx')).sort()
    const roundTrips = (dir) => {
      const cjs = sh(dir, 'node', ['roundtrip.cjs']).trim()
      const esm = sh(dir, 'node', ['roundtrip.mjs']).trim()
      assert(cjs === 'udp4 ok, unix_dgram ok', `CJS: ${cjs}`)
      assert(esm === 'esm ok', `ESM: ${esm}`)
      return cjs
    }
    const loadError = (dir) => JSON.parse(sh(dir, 'node', ['load.cjs']))

    check('a. npm install @dgramx/dgram: only the linux-x64-gnu binary comes; udp4 + unix_dgram round trips', () => {
      const dir = project('a-npm')
      sh(dir, 'npm', ['install', '@dgramx/dgram'])
      const got = installed(dir)
      assert(JSON.stringify(got) === JSON.stringify(['dgram', `dgram-${HOST_TUPLE}`]), `installed: ${got}`)
      return `${roundTrips(dir)} (installed @dgramx/${got.join(', @dgramx/')})`
    })

    check('b. pnpm add @dgramx/dgram: the same', () => {
      const dir = project('b-pnpm')
      sh(dir, 'pnpm', ['add', '@dgramx/dgram', '--store-dir', path.join(tmp, 'pnpm-store'), '--config.confirmModulesPurge=false'])
      const store = readdirSync(path.join(dir, 'node_modules/.pnpm')).filter((d) => d.startsWith('@dgramx'))
      assert(store.length === 2 && store.some((d) => d.startsWith(`@dgramx+dgram-${HOST_TUPLE}@`)), `pnpm installed: ${store}`)
      return roundTrips(dir)
    })

    check(`c. ${HOST_PKG} pinned to ${VERSION} + the facade, npm install --omit=optional: works`, () => {
      const dir = project('c-pinned', { '@dgramx/dgram': VERSION, [HOST_PKG]: VERSION })
      sh(dir, 'npm', ['install', '--omit=optional'])
      return roundTrips(dir)
    })

    check('d. npm install --omit=optional, no pinned package: ERR_DGRAMX_NATIVE_NOT_FOUND with the platform, the attempts and the fixes', () => {
      const dir = project('d-omitted', { '@dgramx/dgram': VERSION })
      sh(dir, 'npm', ['install', '--omit=optional'])
      assert(JSON.stringify(installed(dir)) === '["dgram"]', `installed: ${installed(dir)}`)
      const err = loadError(dir)
      assert(err.code === 'ERR_DGRAMX_NATIVE_NOT_FOUND', `code ${err.code}: ${err.message}`)
      for (const text of [
        `@dgramx/dgram@${VERSION} could not load its native binary on Linux x64 (process.platform=linux, process.arch=x64, glibc `,
        `native/dgram.${HOST_TUPLE}.node: not installed / not present`,
        `the package ${HOST_PKG}: not installed / not present`,
        'Install without omitting optional dependencies: no --omit=optional',
        'delete package-lock.json and node_modules',
        `npm install --save-exact ${HOST_PKG}@${VERSION}`,
        'set DGRAMX_NATIVE_PATH',
      ]) {
        assert(err.message.includes(text), `message lacks ${JSON.stringify(text)}:\n${err.message}`)
      }
      assert(!err.message.startsWith('Cannot find module'), 'a bare Cannot find module')
      return err.message.split('\n')[0]
    })

    check(`e. @dgramx/dgram@${OTHER_VERSION} whose ${HOST_PKG} holds a ${VERSION} binary: ERR_DGRAMX_NATIVE_VERSION_MISMATCH`, () => {
      const dir = project('e-misbuilt')
      sh(dir, 'npm', ['install', `@dgramx/dgram@${OTHER_VERSION}`])
      const err = loadError(dir)
      assert(err.code === 'ERR_DGRAMX_NATIVE_VERSION_MISMATCH', `code ${err.code}: ${err.message}`)
      const first = `@dgramx/dgram@${OTHER_VERSION} loaded a native binary of version ${VERSION} `
      assert(err.message.startsWith(first), `message:\n${err.message}`)
      assert(err.message.includes(`npm install --save-exact ${HOST_PKG}@${OTHER_VERSION}`), `no pin advice:\n${err.message}`)
      return err.message.split('\n')[0]
    })

    check(`e. a stale hand-pinned ${HOST_PKG}@${VERSION} under @dgramx/dgram@${OTHER_VERSION}, --omit=optional: the same error`, () => {
      const dir = project('e-stale-pin', { '@dgramx/dgram': OTHER_VERSION, [HOST_PKG]: VERSION })
      sh(dir, 'npm', ['install', '--omit=optional'])
      const err = loadError(dir)
      assert(err.code === 'ERR_DGRAMX_NATIVE_VERSION_MISMATCH', `code ${err.code}: ${err.message}`)
      assert(err.message.includes(`Installed: ${HOST_PKG}@${VERSION}.`), `message:\n${err.message}`)
      return err.message.split('\n')[1]
    })

    const facadeTgz = path.join(tarballs, `dgramx-dgram-${VERSION}.tgz`)
    const hostTgz = path.join(tarballs, `dgramx-dgram-${HOST_TUPLE}-${VERSION}.tgz`)
    const lintBin = (name) => path.join(here, 'node_modules/.bin', name)
    // The linters' own reports are printed whole; --strict makes publint's warnings errors, and
    // attw exits non-zero on any problem in any resolution mode.
    const lint = (cmd, args) => {
      const out = execFileSync(lintBin(cmd), args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, NO_COLOR: '1' } })
      console.log(out.trim().replace(/^/gm, '       | '))
    }
    check('publint --strict: the facade tarball', () => lint('publint', ['run', facadeTgz, '--strict']))
    check(`publint --strict: the ${HOST_TUPLE} tarball`, () => lint('publint', ['run', hostTgz, '--strict']))
    check('attw: the facade tarball (types of require and import under node10, node16 CJS/ESM, bundler)', () =>
      lint('attw', [facadeTgz, '--format', 'table-flipped', '--no-emoji', '--no-color']),
    )
  })()
}


// A user's program: a udp4 and a unix_dgram round trip through the installed package.
const ROUNDTRIP_CJS = `
const dgram = require('@dgramx/dgram')
const fs = require('node:fs'), os = require('node:os'), path = require('node:path')
const timer = setTimeout(() => { console.log('timeout'); process.exit(1) }, 10000)
const once = (s, ev) => new Promise((resolve) => s.once(ev, (...a) => resolve(a)))
async function udp4() {
  const a = dgram.createSocket('udp4'), b = dgram.createSocket('udp4')
  await new Promise((r) => a.bind(0, '127.0.0.1', r))
  const got = once(a, 'message')
  b.send('ping udp4', a.address().port, '127.0.0.1')
  const [msg, rinfo] = await got
  if (msg.toString() !== 'ping udp4' || rinfo.address !== '127.0.0.1') throw new Error('udp4 mismatch')
  a.close(); b.close()
}
async function unix() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'rt-'))
  const p = path.join(dir, 's.sock')
  const a = dgram.createSocket('unix_dgram'), b = dgram.createSocket('unix_dgram')
  await new Promise((r) => a.bind(p, r))
  const got = once(a, 'message')
  const m = Buffer.from('ping unix')
  b.send(m, 0, m.length, p)
  const [msg] = await got
  if (msg.toString() !== 'ping unix') throw new Error('unix mismatch')
  a.close(); b.close(); fs.rmSync(dir, { recursive: true, force: true })
}
udp4().then(unix).then(() => { clearTimeout(timer); console.log('udp4 ok, unix_dgram ok') }, (e) => { console.log(String(e && e.stack || e)); process.exit(1) })
`
const ROUNDTRIP_MJS = `
import dgram, { createSocket } from '@dgramx/dgram'
if (dgram.createSocket !== createSocket) throw new Error('default and named exports differ')
const s = createSocket('udp4')
s.bind(0, '127.0.0.1', () => { s.close(); console.log('esm ok') })
`
const LOAD_CJS = `
try { require('@dgramx/dgram'); console.log(JSON.stringify({ code: 'loaded', message: '' })) }
catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }
`

try {
  await main()
} catch (e) {
  results.push({ name: 'setup', ok: false })
  console.log(`  FAIL setup: ${e instanceof Error ? e.stack : e}`)
} finally {
  if (verdaccio && verdaccio.exitCode === null) verdaccio.kill('SIGTERM')
  rmSync(tmp, { recursive: true, force: true, maxRetries: 3 })
}
const passed = results.filter((r) => r.ok).length
const failed = results.length - passed
console.log(`\nregistry test (${((Date.now() - started) / 1000).toFixed(0)} s):`)
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 && passed > 0 ? 0 : 1)
