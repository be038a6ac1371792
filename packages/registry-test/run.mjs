// Proof of the distribution path against a real npm registry (verdaccio on loopback, no uplinks).
// Publishes every binary this run built (the host's npm/linux-x64-gnu build and every
// target/release-targets/<tuple>/dgram.<tuple>.node that has an npm/<tuple> package) through the
// release command itself, scripts/publish.mjs, then installs from it into fresh projects whose
// PATH holds only node, npm, npx and pnpm (no cc, cargo, python or make):
//   - publish refuses while any target lacks a binary, naming them, and publishes nothing;
//   - --targets <what was built> publishes the platform packages, then the facade (whose
//     optionalDependencies are exactly those) and @dgramx/unix-dgram, with no workspace: range;
//   a. npm install @dgramx/dgram, then udp4 and unix_dgram round trips (CJS and ESM);
//   b. the same with pnpm;
//   c. the platform package pinned exactly + the facade, installed with --omit=optional: works;
//   d. --omit=optional and no pinned package: ERR_DGRAMX_NATIVE_NOT_FOUND, asserted on its text;
//   e. a binary whose version differs from the facade's: ERR_DGRAMX_NATIVE_VERSION_MISMATCH,
//      both as a mis-built platform package and as a stale hand-pinned one;
//   f. hot-shots with `unix-dgram` aliased to @dgramx/unix-dgram through npm `overrides` (as the
//      README says): a metric sent over hot-shots' uds transport arrives at a @dgramx/dgram
//      unix_dgram listener;
//   g. under a musl Node (scripts/ci/lib/musl-node.sh) npm installs the facade and the loader
//      picks @dgramx/dgram-linux-x64-musl; round trips as in a.;
// and lints the packed tarballs with publint and @arethetypeswrong/cli.
//
// The two msvc targets cannot be linked on Linux (no Windows SDK/CRT), so this test publishes
// with --targets naming what was built, and allows exactly those two to be absent (printed);
// any other target without a binary fails the "every non-msvc target built" check. The real
// release (release.yml) runs the same command without --targets, which refuses any gap.
import { execFileSync, spawn, spawnSync } from 'node:child_process'
import { copyFileSync, cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, realpathSync, rmSync, symlinkSync, writeFileSync } from 'node:fs'
import net from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { createRequire } from 'node:module'
import { allTuples as napiTuples } from '../../scripts/release/tarballs.mjs'

const here = path.dirname(fileURLToPath(import.meta.url))
const root = path.resolve(here, '../..')
const facade = JSON.parse(readFileSync(path.join(root, 'packages/dgram/package.json'), 'utf8'))
const VERSION = facade.version
const [maj, min, pat] = VERSION.split('-')[0].split('.').map(Number)
const OTHER_VERSION = `${maj}.${min}.${pat + 1}-registry-test.0`
const HOST_TUPLE = 'linux-x64-gnu'
const HOST_PKG = `@dgramx/dgram-${HOST_TUPLE}`
const MUSL_TUPLE = 'linux-x64-musl'
/** Targets that cannot be linked on this machine (no Windows SDK/CRT libraries reachable). */
const ALLOWED_ABSENT = ['win32-x64-msvc', 'win32-arm64-msvc']
// hot-shots as the workspace resolved it (packages/unix-dgram's devDependency), republished to
// the loopback registry: the registry has no uplinks.
const HOT_SHOTS_DIR = path.dirname(createRequire(path.join(root, 'packages/unix-dgram/package.json')).resolve('hot-shots/package.json'))
const HOT_SHOTS_VERSION = JSON.parse(readFileSync(path.join(HOT_SHOTS_DIR, 'package.json'), 'utf8')).version
const UNIX_DGRAM_VERSION = JSON.parse(readFileSync(path.join(root, 'packages/unix-dgram/package.json'), 'utf8')).version
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

/**
 * A musl Node (scripts/ci/lib/musl-node.sh): MUSL_NODE_BIN when the caller provisioned it,
 * otherwise provisioned here under target/musl-node (needs root: it installs Debian trixie's
 * musl loader with dpkg when /lib/ld-musl-x86_64.so.1 is missing or older than 1.2.4).
 */
function provisionMuslNode() {
  if (process.env.MUSL_NODE_BIN) return process.env.MUSL_NODE_BIN
  const out = execFileSync('bash', ['-c', 'source scripts/ci/lib/musl-node.sh && musl_node_provision target/musl-node >&2 && echo "$MUSL_NODE_BIN"'], {
    cwd: root,
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
    timeout: 600_000,
  })
  return out.trim().split('\n').pop()
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

    // Stage npm/ (package.json, README, LICENSE of every platform package) with the binaries
    // this run built: the host's, and each one the cross builds left in target/release-targets/.
    const stagedNpm = path.join(tmp, 'npm')
    cpSync(path.join(root, 'npm'), stagedNpm, { recursive: true, filter: (src) => !src.endsWith('.node') })
    copyFileSync(built, path.join(stagedNpm, HOST_TUPLE, `dgram.${HOST_TUPLE}.node`))
    const crossDir = path.join(root, 'target/release-targets')
    const notPublished = []
    for (const tuple of existsSync(crossDir) ? readdirSync(crossDir) : []) {
      const file = path.join(crossDir, tuple, `dgram.${tuple}.node`)
      if (!existsSync(file)) continue
      if (!existsSync(path.join(stagedNpm, tuple, 'package.json'))) notPublished.push(tuple)
      else copyFileSync(file, path.join(stagedNpm, tuple, `dgram.${tuple}.node`))
    }
    // In the facade's napi target order, which is the order publish.mjs publishes them in.
    const allTuples = napiTuples()
    const builtTuples = allTuples.filter((t) => existsSync(path.join(stagedNpm, t, `dgram.${t}.node`)))
    const absent = allTuples.filter((t) => !builtTuples.includes(t)).sort()
    console.log(`binaries from this run: ${builtTuples.join(', ')}`)
    console.log(`allowed to be absent (cannot be linked here: no Windows SDK/CRT): ${ALLOWED_ABSENT.join(', ')}`)
    if (notPublished.length) console.log(`built but no npm package (not published): ${notPublished.join(', ')}`)
    const tarballs = path.join(tmp, 'tarballs')
    const publish = (args) => {
      const r = spawnSync(process.execPath, [path.join(root, 'scripts/publish.mjs'), '--registry', url, '--npm-dir', stagedNpm, ...args], {
        env: publishEnv,
        encoding: 'utf8',
        timeout: 600_000,
      })
      return { status: r.status ?? 1, stdout: r.stdout ?? '', stderr: `${r.stderr ?? ''}${r.error ? String(r.error) : ''}` }
    }
    const onRegistry = (spec) => {
      try {
        execFileSync('npm', ['view', spec, 'version', '--registry', url], { env: publishEnv, stdio: 'pipe' })
        return true
      } catch {
        return false
      }
    }

    check(`every target except ${ALLOWED_ABSENT.join(' and ')} has a binary from this run`, () => {
      const unexpected = absent.filter((t) => !ALLOWED_ABSENT.includes(t))
      assert(unexpected.length === 0, `no binary for ${unexpected.join(', ')} (expected in target/release-targets/<tuple>/)`)
      return `${builtTuples.length} built; absent: ${absent.join(', ') || 'none'}`
    })

    check('publish without --targets refuses: exit 1, every missing target named, nothing published', () => {
      assert(absent.length > 0, 'nothing is missing, so there is no refusal to prove')
      const r = publish([])
      assert(r.status === 1, `exit status ${r.status}\n${r.stdout}${r.stderr}`)
      assert(r.stderr.includes(`refusing to publish: no binary for ${absent.length} of ${allTuples.length} targets`), `stderr:\n${r.stderr}`)
      const named = [...r.stderr.matchAll(/^ {2}(\S+) {2}\(/gm)].map((m) => m[1]).sort()
      assert(JSON.stringify(named) === JSON.stringify(absent), `named ${named}, missing ${absent}`)
      assert(!onRegistry('@dgramx/dgram') && !onRegistry(HOST_PKG), 'something reached the registry')
      return `refused, naming ${named.join(', ')}`
    })

    const expectedLog = [
      ...builtTuples.map((t) => `@dgramx/dgram-${t}@${VERSION}`),
      `@dgramx/dgram@${VERSION}`,
      `@dgramx/unix-dgram@${UNIX_DGRAM_VERSION}`,
    ]
    check(`publish --targets <the ${builtTuples.length} built>: platform packages, then the facade and @dgramx/unix-dgram`, () => {
      const r = publish(['--targets', builtTuples.join(','), '--pack-dir', tarballs])
      assert(r.status === 0, `exit status ${r.status}\n${r.stdout}${r.stderr}`)
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('publish: '))
      assert(JSON.stringify(lines) === JSON.stringify(expectedLog.map((n) => `publish: publish ${n}`)), `unexpected publish log:\n${r.stdout}`)
      if (absent.length) {
        assert(r.stderr.includes('RESTRICTED RELEASE (--targets)') && absent.every((t) => r.stderr.includes(`  ${t}\n`)), `no loud warning naming ${absent}:\n${r.stderr}`)
      }
      return `${lines.length} published in order; warned about ${absent.join(', ') || 'nothing'}`
    })

    check('publish again: idempotent, every version already there is skipped', () => {
      const r = publish(['--targets', builtTuples.join(',')])
      const lines = r.stdout.split('\n').filter((l) => l.startsWith('publish: '))
      assert(r.status === 0 && JSON.stringify(lines) === JSON.stringify(expectedLog.map((n) => `publish: skip    ${n} (already on the registry)`)), `unexpected:\n${r.stdout}${r.stderr}`)
      return `${lines.length} skipped`
    })

    check('the published facade: optionalDependencies = the published platform packages at exactly its version; no .node inside', () => {
      const meta = JSON.parse(execFileSync('npm', ['view', `@dgramx/dgram@${VERSION}`, '--json', '--registry', url], { env: publishEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
      const want = Object.fromEntries(builtTuples.map((t) => [`@dgramx/dgram-${t}`, VERSION]))
      const got = meta.optionalDependencies ?? {}
      assert(JSON.stringify(Object.entries(got).sort()) === JSON.stringify(Object.entries(want).sort()), `optionalDependencies ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`)
      const list = execFileSync('tar', ['-tzf', path.join(tarballs, `dgramx-dgram-${VERSION}.tgz`)], { encoding: 'utf8' })
      assert(!/\.node$/m.test(list), `the facade tarball holds a .node:\n${list}`)
      assert(list.includes('package/native/binding.cjs'), 'the facade tarball lacks native/binding.cjs')
      return `${Object.keys(got).length} exact optional dependencies; ${list.trim().split('\n').length} files`
    })

    check('every published tarball: LICENSE and README.md (+ CHANGELOG.md for the facade and unix-dgram), no workspace: range', () => {
      const tgzs = readdirSync(tarballs).filter((f) => f.endsWith('.tgz'))
      assert(tgzs.length === expectedLog.length, `${tgzs.length} tarballs for ${expectedLog.length} packages`)
      for (const tgz of tgzs) {
        const list = execFileSync('tar', ['-tzf', path.join(tarballs, tgz)], { encoding: 'utf8' }).split('\n')
        const need = ['package/LICENSE', 'package/README.md', ...(/^dgramx-(dgram|unix-dgram)-\d/.test(tgz) ? ['package/CHANGELOG.md'] : [])]
        for (const f of need) assert(list.includes(f), `${tgz} lacks ${f}`)
        const manifest = execFileSync('tar', ['-xzOf', path.join(tarballs, tgz), 'package/package.json'], { encoding: 'utf8' })
        assert(!manifest.includes('workspace:'), `${tgz}: ${manifest}`)
      }
      const unixMeta = JSON.parse(execFileSync('npm', ['view', `@dgramx/unix-dgram@${UNIX_DGRAM_VERSION}`, 'dependencies', '--json', '--registry', url], { env: publishEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
      assert(unixMeta['@dgramx/dgram'] === VERSION, `@dgramx/unix-dgram depends on ${JSON.stringify(unixMeta)}`)
      return `${tgzs.length} tarballs; @dgramx/unix-dgram -> @dgramx/dgram@${VERSION}`
    })

    check(`hot-shots ${HOT_SHOTS_VERSION} (the workspace's copy) onto the loopback registry`, () => {
      const out = path.join(tmp, 'hot-shots-pack')
      mkdirSync(out)
      const tgz = JSON.parse(execFileSync('npm', ['pack', HOT_SHOTS_DIR, '--ignore-scripts', '--json', '--pack-destination', out], { env: publishEnv, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))[0].filename
      execFileSync('npm', ['publish', path.join(out, tgz), '--registry', url, '--ignore-scripts'], { env: publishEnv, stdio: 'pipe' })
      return tgz
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
    const unshareBin = which('unshare')
    const mountBin = which('mount')
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

    const project = (name, deps = {}, extra = {}) => {
      const dir = path.join(tmp, name)
      mkdirSync(dir)
      writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name, version: '1.0.0', private: true, dependencies: deps, ...extra }, null, 2))
      writeFileSync(path.join(dir, '.npmrc'), `registry=${url}\n`)
      writeFileSync(path.join(dir, 'roundtrip.cjs'), ROUNDTRIP_CJS)
      writeFileSync(path.join(dir, 'roundtrip.mjs'), ROUNDTRIP_MJS)
      writeFileSync(path.join(dir, 'load.cjs'), LOAD_CJS)
      writeFileSync(path.join(dir, 'which.cjs'), WHICH_CJS)
      writeFileSync(path.join(dir, 'hot-shots.cjs'), HOT_SHOTS_CJS)
      return dir
    }
    const sh = (dir, cmd, args, env = userEnv) => execFileSync(cmd, args, { cwd: dir, env, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
    const installed = (dir) => readdirSync(path.join(dir, 'node_modules/@dgramx')).sort()
    const roundTrips = (dir, env = userEnv) => {
      const cjs = sh(dir, 'node', ['roundtrip.cjs'], env).trim()
      const esm = sh(dir, 'node', ['roundtrip.mjs'], env).trim()
      assert(cjs === 'udp4 ok, unix_dgram ok', `CJS: ${cjs}`)
      assert(esm === 'esm ok', `ESM: ${esm}`)
      return cjs
    }
    const loadError = (dir) => JSON.parse(sh(dir, 'node', ['load.cjs']))

    // The .node file the loader actually loaded, relative to node_modules.
    const loadedBinary = (dir, env = userEnv) => JSON.parse(sh(dir, 'node', ['which.cjs'], env))

    check('a. npm install @dgramx/dgram: only the linux-x64-gnu binary comes, and is the one loaded; udp4 + unix_dgram round trips', () => {
      const dir = project('a-npm')
      sh(dir, 'npm', ['install', '@dgramx/dgram'])
      const got = installed(dir)
      assert(JSON.stringify(got) === JSON.stringify(['dgram', `dgram-${HOST_TUPLE}`]), `installed: ${got}`)
      const loaded = loadedBinary(dir)
      assert(JSON.stringify(loaded) === JSON.stringify([`${HOST_PKG}/dgram.${HOST_TUPLE}.node`]), `loaded ${loaded}`)
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

    check(`f. hot-shots with unix-dgram aliased to @dgramx/unix-dgram (npm overrides): a metric over its uds transport arrives`, () => {
      const alias = `npm:@dgramx/unix-dgram@${UNIX_DGRAM_VERSION}`
      // As the README tells users: the alias as a dependency and as an override, so it also
      // replaces hot-shots' own optional dependency on unix-dgram.
      const dir = project('f-hot-shots', { 'hot-shots': HOT_SHOTS_VERSION, 'unix-dgram': alias }, { overrides: { 'unix-dgram': alias } })
      sh(dir, 'npm', ['install'])
      const aliased = JSON.parse(readFileSync(path.join(dir, 'node_modules/unix-dgram/package.json'), 'utf8')).name
      assert(aliased === '@dgramx/unix-dgram', `node_modules/unix-dgram is ${aliased}`)
      const out = JSON.parse(sh(dir, 'node', ['hot-shots.cjs']))
      assert(out.unixDgram === '@dgramx/unix-dgram', `hot-shots requires unix-dgram from ${out.unixDgram}`)
      assert(out.received === 'dgramx.registry_test:3|c|#leg:f', `received ${JSON.stringify(out.received)}`)
      return `hot-shots -> ${out.unixDgram}; listener got ${JSON.stringify(out.received)}`
    })

    check(`g. under a musl Node: npm installs @dgramx/dgram, the loader picks ${MUSL_TUPLE}; udp4 + unix_dgram round trips`, () => {
      assert(builtTuples.includes(MUSL_TUPLE), `no ${MUSL_TUPLE} binary in this run (target/release-targets/${MUSL_TUPLE}/)`)
      const muslBin = provisionMuslNode()
      const muslEnv = { ...userEnv, PATH: muslBin, npm_config_cache: path.join(tmp, 'musl-cache') }
      const dir = project('g-musl')
      const runtime = sh(dir, 'node', ['-p', 'process.version + " " + (process.report.getReport().header.glibcVersionRuntime ?? "musl")'], muslEnv).trim()
      assert(runtime.endsWith(' musl'), `not a musl Node: ${runtime}`)
      // A musl Node runs on a musl system, whose /usr/bin/ldd is musl's; this machine's says GNU.
      // npm decides the libc from /usr/bin/ldd before anything else (npm-install-checks), and so
      // does the napi-generated native/binding.cjs, so on this glibc filesystem a musl Node would
      // get the glibc package. Install and run therefore happen in a private mount namespace whose
      // /usr/bin/ldd is Alpine's (a script running the musl loader). (That the facade should not
      // trust /usr/bin/ldd at all is issue 14's loader item, not this test's.)
      const alpineLdd = path.join(tmp, 'alpine-ldd')
      writeFileSync(alpineLdd, '#!/bin/sh\nexec /lib/ld-musl-x86_64.so.1 --list "$@"\n', { mode: 0o755 })
      const onMusl = path.join(tmp, 'on-musl-system')
      writeFileSync(onMusl, `#!/bin/sh\n${mountBin} --bind ${alpineLdd} /usr/bin/ldd && exec "$@"\n`, { mode: 0o755 })
      const musl = (args) => sh(dir, unshareBin, ['-m', '--propagation', 'private', onMusl, ...args], muslEnv)
      musl(['npm', 'install', '@dgramx/dgram'])
      const got = installed(dir)
      assert(JSON.stringify(got) === JSON.stringify(['dgram', `dgram-${MUSL_TUPLE}`]), `installed: ${got}`)
      const loaded = JSON.parse(musl(['node', 'which.cjs']))
      assert(JSON.stringify(loaded) === JSON.stringify([`@dgramx/dgram-${MUSL_TUPLE}/dgram.${MUSL_TUPLE}.node`]), `loaded ${loaded}`)
      const cjs = musl(['node', 'roundtrip.cjs']).trim()
      const esm = musl(['node', 'roundtrip.mjs']).trim()
      assert(cjs === 'udp4 ok, unix_dgram ok' && esm === 'esm ok', `CJS: ${cjs}; ESM: ${esm}`)
      return `${cjs}, ${esm} on ${runtime} (installed @dgramx/${got.join(', @dgramx/')}; loaded ${loaded})`
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
const WHICH_CJS = `
require('@dgramx/dgram')
console.log(JSON.stringify(Object.keys(require.cache).filter((k) => k.endsWith('.node')).map((k) => k.split('/node_modules/').pop())))
`
// hot-shots' uds transport requires 'unix-dgram'; the listener is a @dgramx/dgram unix_dgram socket.
const HOT_SHOTS_CJS = `
const fs = require('node:fs'), os = require('node:os'), path = require('node:path')
const StatsD = require('hot-shots')
const dgram = require('@dgramx/dgram')
const timer = setTimeout(() => { console.log(JSON.stringify({ error: 'timeout' })); process.exit(1) }, 15000)
const hsDir = path.dirname(require.resolve('hot-shots/package.json'))
const unixDgram = require(require.resolve('unix-dgram/package.json', { paths: [hsDir] })).name
const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'hs-'))
const sock = path.join(dir, 'dsd.socket')
const listener = dgram.createSocket('unix_dgram')
listener.bind(sock, () => {
  const client = new StatsD({ protocol: 'uds', path: sock, errorHandler: (e) => { console.log(JSON.stringify({ error: String(e) })); process.exit(1) } })
  listener.once('message', (msg) => {
    clearTimeout(timer)
    console.log(JSON.stringify({ unixDgram, received: msg.toString() }))
    client.close(() => { listener.close(); fs.rmSync(dir, { recursive: true, force: true }) })
  })
  client.increment('dgramx.registry_test', 3, ['leg:f'])
})
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
