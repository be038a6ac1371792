// Publishes the platform packages first and the facade last, idempotently.
//
//   node scripts/publish.mjs [--registry URL] [--npm-dir DIR] [--only-built] [--provenance]
//                            [--dry-run] [--pack-dir DIR]
//
// - Every napi target of packages/dgram/package.json has a package in <npm-dir>/<platformArchABI>
//   (default npm/) holding `dgram.<platformArchABI>.node` (put there by `napi artifacts` in the
//   release workflow, or by the build:native script on this machine). A missing binary fails
//   the release, unless --only-built (then that package is neither published nor listed).
// - Each platform package is published at the facade's version unless that version is already
//   on the registry (a re-run after a partial failure publishes only what is missing).
// - The facade is staged in a temporary directory (the files `npm pack` would take) with
//   `optionalDependencies` on exactly its own version of each platform package written into
//   the staged package.json, so nothing in the work tree changes; it is published last, also
//   only if its version is not yet on the registry.
// - --pack-dir writes the tarballs there too (publint/attw lint them in the registry test).
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const facadeDir = path.join(root, 'packages/dgram')

/** napi's platformArchABI for each of our target triples (@napi-rs/cli's target table). */
const TUPLES = {
  'x86_64-unknown-linux-gnu': 'linux-x64-gnu',
  'aarch64-unknown-linux-gnu': 'linux-arm64-gnu',
  'x86_64-unknown-linux-musl': 'linux-x64-musl',
  'aarch64-unknown-linux-musl': 'linux-arm64-musl',
  'armv7-unknown-linux-gnueabihf': 'linux-arm-gnueabihf',
  'x86_64-apple-darwin': 'darwin-x64',
  'aarch64-apple-darwin': 'darwin-arm64',
  'x86_64-pc-windows-msvc': 'win32-x64-msvc',
  'aarch64-pc-windows-msvc': 'win32-arm64-msvc',
  'x86_64-unknown-freebsd': 'freebsd-x64',
}

function parseArgs(argv) {
  const opts = { registry: undefined, npmDir: path.join(root, 'npm'), onlyBuilt: false, provenance: false, dryRun: false, packDir: undefined }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--registry') opts.registry = argv[++i]
    else if (a === '--npm-dir') opts.npmDir = path.resolve(argv[++i])
    else if (a === '--pack-dir') opts.packDir = path.resolve(argv[++i])
    else if (a === '--only-built') opts.onlyBuilt = true
    else if (a === '--provenance') opts.provenance = true
    else if (a === '--dry-run') opts.dryRun = true
    else throw new Error(`publish: unknown argument ${a}`)
  }
  return opts
}

const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'))

function npm(args, opts, { capture = false } = {}) {
  const full = [...args, ...(opts.registry ? ['--registry', opts.registry] : [])]
  return execFileSync('npm', full, { encoding: 'utf8', stdio: capture ? ['ignore', 'pipe', 'pipe'] : ['ignore', 'inherit', 'inherit'] })
}

/** Whether name@version is already on the registry (a 404 or an unknown version says no). */
function published(name, version, opts) {
  try {
    return npm(['view', `${name}@${version}`, 'version', '--json'], opts, { capture: true }).trim() !== ''
  } catch (e) {
    const out = `${e.stdout ?? ''}${e.stderr ?? ''}`
    if (/E404|404 Not Found|is not in this registry|No match found/.test(out)) return false
    throw e
  }
}

function publishDir(dir, name, version, opts, log) {
  if (published(name, version, opts)) {
    log.push(`skip    ${name}@${version} (already on the registry)`)
    return
  }
  const args = ['publish', dir, '--access', 'public']
  if (opts.provenance) args.push('--provenance')
  if (opts.dryRun) args.push('--dry-run')
  npm(args, opts)
  log.push(`${opts.dryRun ? 'dry-run' : 'publish'} ${name}@${version}`)
}

function pack(dir, opts) {
  if (!opts.packDir) return
  mkdirSync(opts.packDir, { recursive: true })
  npm(['pack', dir, '--pack-destination', opts.packDir, '--silent'], { ...opts, registry: undefined }, { capture: true })
}

/** Copies the files `npm pack` would take from the facade into a fresh directory. */
function stageFacade() {
  const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: facadeDir, encoding: 'utf8' }))
  const stage = mkdtempSync(path.join(tmpdir(), 'dgramx-facade-'))
  for (const { path: rel } of listing[0].files) {
    if (rel.endsWith('.node')) throw new Error(`publish: the facade would ship a native binary (${rel}); check "files"`)
    mkdirSync(path.dirname(path.join(stage, rel)), { recursive: true })
    cpSync(path.join(facadeDir, rel), path.join(stage, rel))
  }
  return stage
}

export function main(argv = process.argv.slice(2)) {
  const opts = parseArgs(argv)
  const facade = readJson(path.join(facadeDir, 'package.json'))
  const version = facade.version
  const log = []
  const optionalDependencies = {}

  // Platform packages first.
  for (const triple of facade.napi.targets) {
    const tuple = TUPLES[triple]
    if (!tuple) throw new Error(`publish: no platformArchABI known for ${triple}`)
    const dir = path.join(opts.npmDir, tuple)
    const pkg = readJson(path.join(dir, 'package.json'))
    const binary = path.join(dir, `${facade.napi.binaryName}.${tuple}.node`)
    if (pkg.version !== version) throw new Error(`publish: ${pkg.name} is ${pkg.version}, the facade ${version} (node scripts/versions.mjs sync)`)
    if (JSON.stringify(pkg.files) !== JSON.stringify([path.basename(binary)])) throw new Error(`publish: ${pkg.name} "files" must be the .node only`)
    if (!existsSync(binary)) {
      if (opts.onlyBuilt) {
        log.push(`absent  ${pkg.name}@${version} (no ${path.basename(binary)}; not listed)`)
        continue
      }
      throw new Error(`publish: ${binary} is missing (run napi artifacts first)`)
    }
    pack(dir, opts)
    publishDir(dir, pkg.name, version, opts, log)
    optionalDependencies[pkg.name] = version
  }

  // The facade last, with its optional dependencies at exactly its own version.
  const stage = stageFacade()
  try {
    const staged = { ...facade, optionalDependencies }
    delete staged.devDependencies
    writeFileSync(path.join(stage, 'package.json'), `${JSON.stringify(staged, null, 2)}\n`)
    pack(stage, opts)
    publishDir(stage, facade.name, version, opts, log)
  } finally {
    rmSync(stage, { recursive: true, force: true })
  }
  for (const line of log) console.log(`publish: ${line}`)
  return log
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main()
  } catch (e) {
    console.error(e instanceof Error ? e.message : e)
    process.exit(1)
  }
}
