// The one release command: publishes every public package, platform packages first.
//
//   node scripts/publish.mjs [--registry URL] [--tag TAG] [--dry-run] [--provenance]
//                            [--npm-dir DIR] [--pack-dir DIR] [--pack-only]
//                            [--targets TUPLE,TUPLE,...]
//
// 1. Every napi target of packages/dgram/package.json must have its binary at
//    <npm-dir>/<tuple>/dgram.<tuple>.node (npm-dir defaults to npm/). If any is missing the
//    command publishes nothing and exits 1 naming every missing target. There is no silent
//    drop: --targets restricts the release to the listed tuples, prints a warning naming what is
//    left out, and the facade's optionalDependencies then list exactly the published targets.
// 2. Each binary is checked against its package (scripts/verify-binaries.mjs: object format,
//    architecture, libc).
// 3. Every tarball is built and verified before the first publish (scripts/release/tarballs.mjs):
//    LICENSE, README, CHANGELOG where due, no workspace: ranges, the facade's optionalDependencies
//    exactly the platform packages at exactly its version, source maps self-contained.
// 4. Publish order: the platform packages, then @dgramx/dgram, then @dgramx/unix-dgram (which
//    depends on the facade). Each is skipped if its version is already on the registry, so a
//    re-run after a partial failure publishes only what is missing.
// --pack-only builds and verifies the tarballs (into --pack-dir) and publishes nothing, without
// contacting a registry. --dry-run passes --dry-run to npm publish.
import { execFileSync } from 'node:child_process'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { allTuples, buildTarballs, facadeDir, readJson, root } from './release/tarballs.mjs'

function parseArgs(argv) {
  const opts = { registry: undefined, tag: undefined, npmDir: path.join(root, 'npm'), packDir: undefined, packOnly: false, provenance: false, dryRun: false, targets: undefined }
  const value = (i, a) => {
    const v = argv[i]
    if (v === undefined || v.startsWith('--')) throw new Error(`publish: ${a} needs a value`)
    return v
  }
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]
    if (a === '--registry') opts.registry = value(++i, a)
    else if (a === '--tag') opts.tag = value(++i, a)
    else if (a === '--npm-dir') opts.npmDir = path.resolve(value(++i, a))
    else if (a === '--pack-dir') opts.packDir = path.resolve(value(++i, a))
    else if (a === '--targets') opts.targets = value(++i, a).split(',').map((s) => s.trim()).filter(Boolean)
    else if (a === '--pack-only') opts.packOnly = true
    else if (a === '--provenance') opts.provenance = true
    else if (a === '--dry-run') opts.dryRun = true
    else if (a === '--only-built') throw new Error('publish: --only-built is gone (it dropped failed targets silently); name the targets with --targets')
    else throw new Error(`publish: unknown argument ${a}`)
  }
  return opts
}

/** The tuples to release, and those of them without a binary. Throws on an unknown --targets entry. */
export function plan(opts) {
  const facade = readJson(path.join(facadeDir, 'package.json'))
  const all = allTuples(facade)
  let tuples = all
  const left = []
  if (opts.targets) {
    const unknown = opts.targets.filter((t) => !all.includes(t))
    if (unknown.length) throw new Error(`publish: --targets names unknown targets: ${unknown.join(', ')} (known: ${all.join(', ')})`)
    if (opts.targets.length === 0) throw new Error('publish: --targets lists no target')
    tuples = all.filter((t) => opts.targets.includes(t))
    left.push(...all.filter((t) => !tuples.includes(t)))
  }
  const binary = (t) => path.join(opts.npmDir, t, `${facade.napi.binaryName}.${t}.node`)
  const missing = tuples.filter((t) => !existsSync(binary(t)))
  return { version: facade.version, tuples, left, missing, binary }
}

const shortPath = (p) => (path.relative(process.cwd(), p).startsWith('..') ? p : path.relative(process.cwd(), p))

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

export function main(argv = process.argv.slice(2)) {
  const opts = parseArgs(argv)
  const p = plan(opts)
  if (p.left.length) {
    const bar = '!'.repeat(100)
    console.warn(
      `${bar}\npublish: RESTRICTED RELEASE (--targets): ${p.left.length} of ${p.left.length + p.tuples.length} targets are NOT published and NOT listed in the facade's optionalDependencies:\n  ${p.left.join('\n  ')}\nUsers on those platforms get no binary from this release.\n${bar}`,
    )
  }
  if (p.missing.length) {
    throw new Error(
      `publish: refusing to publish: no binary for ${p.missing.length} of ${p.tuples.length} targets:\n` +
        p.missing.map((t) => `  ${t}  (${shortPath(p.binary(t))} is missing)`).join('\n') +
        '\nBuild them (or fetch the release artifacts into npm/<tuple>/). Nothing was published.',
    )
  }
  execFileSync(process.execPath, [path.join(root, 'scripts/verify-binaries.mjs'), ...p.tuples.map((t) => path.join(opts.npmDir, t))], { stdio: 'inherit' })

  const log = []
  // A re-run of a release that went through: nothing to pack. (Any gap, and everything is packed
  // and verified again before the first publish.)
  if (!opts.packOnly && !opts.packDir) {
    const facade = readJson(path.join(facadeDir, 'package.json'))
    const unix = readJson(path.join(root, 'packages/unix-dgram/package.json'))
    const release = [...p.tuples.map((t) => [`${facade.napi.packageName}-${t}`, p.version]), [facade.name, p.version], [unix.name, unix.version]]
    if (release.every(([name, version]) => published(name, version, opts))) {
      for (const [name, version] of release) console.log(`publish: skip    ${name}@${version} (already on the registry)`)
      return release.map(([name, version]) => `skip    ${name}@${version}`)
    }
  }
  const outDir = mkdtempSync(path.join(tmpdir(), 'dgramx-release-'))
  try {
    const tarballs = buildTarballs({ npmDir: opts.npmDir, tuples: p.tuples, outDir })
    if (opts.packDir) {
      mkdirSync(opts.packDir, { recursive: true })
      for (const t of tarballs) copyFileSync(t.tgz, path.join(opts.packDir, path.basename(t.tgz)))
    }
    for (const t of tarballs) {
      if (opts.packOnly) {
        log.push(`packed  ${t.name}@${t.version}`)
        continue
      }
      if (published(t.name, t.version, opts)) {
        log.push(`skip    ${t.name}@${t.version} (already on the registry)`)
        continue
      }
      const args = ['publish', t.tgz, '--access', 'public']
      if (opts.tag) args.push('--tag', opts.tag)
      if (opts.provenance) args.push('--provenance')
      if (opts.dryRun) args.push('--dry-run')
      npm(args, opts)
      log.push(`${opts.dryRun ? 'dry-run' : 'publish'} ${t.name}@${t.version}`)
    }
  } finally {
    rmSync(outDir, { recursive: true, force: true })
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
