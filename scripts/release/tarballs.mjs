// Builds the exact tarballs a release publishes, and checks them before anything is published.
//
// Each package is staged in a temporary directory (the files `npm pack` takes from its source
// directory) with its package.json rewritten: `workspace:` ranges become the exact version of the
// workspace package, the facade gets `optionalDependencies` on exactly its own version of each
// platform package, and `scripts`/`devDependencies` go (the prepack guard in the source
// package.json refuses hand packs; see refuse-hand-pack.mjs). The staged copy is packed with
// `npm pack`, and the tarball itself, not the staging directory, is what verifyTarball() reads
// and what publish.mjs publishes.
import { execFileSync } from 'node:child_process'
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..')
export const facadeDir = path.join(root, 'packages/dgram')
export const unixDgramDir = path.join(root, 'packages/unix-dgram')

/** napi's platformArchABI for each of our target triples (@napi-rs/cli's target table). */
export const TUPLES = {
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

export const readJson = (p) => JSON.parse(readFileSync(p, 'utf8'))

/** The facade's napi targets as platformArchABI tuples, in package.json order. */
export function allTuples(facade = readJson(path.join(facadeDir, 'package.json'))) {
  return facade.napi.targets.map((triple) => {
    const tuple = TUPLES[triple]
    if (!tuple) throw new Error(`publish: no platformArchABI known for ${triple}`)
    return tuple
  })
}

/** name -> version of every package in the pnpm workspace (packages/*). */
export function workspaceVersions() {
  const out = {}
  for (const dir of readdirSync(path.join(root, 'packages'))) {
    const p = path.join(root, 'packages', dir, 'package.json')
    if (!existsSync(p)) continue
    const pkg = readJson(p)
    out[pkg.name] = pkg.version
  }
  return out
}

const DEP_FIELDS = ['dependencies', 'optionalDependencies', 'peerDependencies']

/**
 * `workspace:*`, `workspace:^`, `workspace:~` and `workspace:<range>` all become the exact
 * version of the workspace package. Exact, not ^: the facade and its companions are released
 * together, and an exact pin is what a registry user of that release was tested with.
 */
export function rewriteWorkspaceRanges(pkg, versions = workspaceVersions()) {
  const out = { ...pkg }
  for (const field of DEP_FIELDS) {
    if (!pkg[field]) continue
    out[field] = {}
    for (const [name, range] of Object.entries(pkg[field])) {
      if (typeof range === 'string' && range.startsWith('workspace:')) {
        if (!versions[name]) throw new Error(`publish: ${pkg.name} depends on ${name}@${range}, which is not a workspace package`)
        out[field][name] = versions[name]
      } else out[field][name] = range
    }
  }
  return out
}

/** The files `npm pack` would take from dir, as paths relative to it (no lifecycle scripts). */
export function packList(dir) {
  const listing = JSON.parse(execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
  return listing[0].files.map((f) => f.path)
}

/**
 * The package.json the facade is published with: workspace: ranges rewritten, and
 * optionalDependencies on exactly its own version of the platform package of each tuple.
 */
export function facadeManifest(facade, tuples, versions = workspaceVersions()) {
  const optionalDependencies = Object.fromEntries(tuples.map((t) => [`${facade.napi.packageName}-${t}`, facade.version]))
  return { ...rewriteWorkspaceRanges(facade, versions), optionalDependencies }
}

/** What a staged package.json keeps: everything but the scripts (the prepack guard) and devDependencies. */
export function publishedManifest(manifest) {
  const { scripts: _scripts, devDependencies: _dev, ...rest } = manifest
  return rest
}

/** Copies what `npm pack` would take from srcDir into a fresh directory, package.json from `manifest`. */
export function stage(srcDir, manifest) {
  const dir = mkdtempSync(path.join(tmpdir(), 'dgramx-stage-'))
  for (const rel of packList(srcDir)) {
    mkdirSync(path.dirname(path.join(dir, rel)), { recursive: true })
    cpSync(path.join(srcDir, rel), path.join(dir, rel))
  }
  writeFileSync(path.join(dir, 'package.json'), `${JSON.stringify(publishedManifest(manifest), null, 2)}\n`)
  return dir
}

/** `npm pack` of a staged directory into outDir; returns the tarball's path. */
export function pack(stageDir, outDir) {
  mkdirSync(outDir, { recursive: true })
  const out = JSON.parse(execFileSync('npm', ['pack', stageDir, '--json', '--ignore-scripts', '--pack-destination', outDir], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }))
  return path.join(outDir, out[0].filename)
}

/** The tarball's file list (without the `package/` prefix) and a reader for any file in it. */
export function openTarball(tgz) {
  const dir = mkdtempSync(path.join(tmpdir(), 'dgramx-tgz-'))
  execFileSync('tar', ['-xzf', tgz, '-C', dir])
  const base = path.join(dir, 'package')
  const files = []
  const walk = (d, rel) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const r = rel ? `${rel}/${e.name}` : e.name
      if (e.isDirectory()) walk(path.join(d, e.name), r)
      else files.push(r)
    }
  }
  walk(base, '')
  return {
    files: files.sort(),
    manifest: readJson(path.join(base, 'package.json')),
    read: (rel) => readFileSync(path.join(base, rel), 'utf8'),
    close: () => rmSync(dir, { recursive: true, force: true }),
  }
}

/** Markdown links in a README that are relative and point at no file of the tarball. */
export function danglingLinks(readme, files) {
  const out = []
  for (const m of readme.matchAll(/\]\(([^)\s]+)\)/g)) {
    const target = m[1]
    if (/^([a-z][a-z0-9+.-]*:|#)/i.test(target)) continue
    const rel = path.posix.normalize(target.split('#')[0].replace(/^\.\//, ''))
    if (!files.includes(rel) && !files.some((f) => f.startsWith(`${rel.replace(/\/$/, '')}/`))) out.push(target)
  }
  return out
}

/**
 * Everything wrong with a tarball, as sentences (empty: publishable).
 *   kind: 'platform' (tuple, binaryName) | 'facade' (optionalDependencies expected) | 'library'
 */
export function verifyTarball(tgz, expect) {
  const t = openTarball(tgz)
  const problems = []
  const where = path.basename(tgz)
  try {
    const license = readFileSync(path.join(root, 'LICENSE'), 'utf8')
    if (!t.files.includes('LICENSE')) problems.push(`${where}: no LICENSE`)
    else if (t.read('LICENSE') !== license) problems.push(`${where}: LICENSE differs from the repository's`)
    if (!t.files.includes('README.md')) problems.push(`${where}: no README.md`)
    else {
      const dangling = danglingLinks(t.read('README.md'), t.files)
      if (dangling.length) problems.push(`${where}: README.md links to files not in the tarball: ${dangling.join(', ')}`)
    }
    if (expect.changelog && !t.files.includes('CHANGELOG.md')) problems.push(`${where}: no CHANGELOG.md`)
    const manifestText = JSON.stringify(t.manifest)
    if (manifestText.includes('workspace:')) problems.push(`${where}: package.json still holds a workspace: range`)
    if (t.manifest.version !== expect.version) problems.push(`${where}: version ${t.manifest.version}, expected ${expect.version}`)
    if (t.manifest.scripts && Object.keys(t.manifest.scripts).some((s) => /^(pre|post)?install$|^prepare$/.test(s))) {
      problems.push(`${where}: ships an install-time script`)
    }
    const binaries = t.files.filter((f) => f.endsWith('.node'))
    if (expect.kind === 'platform') {
      const want = `${expect.binaryName}.${expect.tuple}.node`
      if (JSON.stringify(binaries) !== JSON.stringify([want])) problems.push(`${where}: holds ${JSON.stringify(binaries)}, expected exactly ${want}`)
    } else if (binaries.length) problems.push(`${where}: ships native binaries ${binaries.join(', ')} (the loader would prefer them to the platform package)`)
    if (expect.kind === 'facade') {
      const got = t.manifest.optionalDependencies ?? {}
      const want = expect.optionalDependencies
      const gotKeys = Object.keys(got).sort()
      const wantKeys = Object.keys(want).sort()
      if (JSON.stringify(gotKeys) !== JSON.stringify(wantKeys)) problems.push(`${where}: optionalDependencies ${JSON.stringify(gotKeys)}, expected ${JSON.stringify(wantKeys)}`)
      for (const k of wantKeys) if (got[k] !== want[k]) problems.push(`${where}: optionalDependencies.${k} is ${got[k]}, expected exactly ${want[k]}`)
    }
    for (const map of t.files.filter((f) => f.endsWith('.map'))) {
      const m = JSON.parse(t.read(map))
      const complete = Array.isArray(m.sourcesContent) && m.sourcesContent.length === m.sources.length && m.sourcesContent.every((s) => typeof s === 'string')
      if (!complete) problems.push(`${where}: ${map} has no sourcesContent and its sources are not shipped`)
    }
    return { problems, files: t.files, manifest: t.manifest }
  } finally {
    t.close()
  }
}

/**
 * Stages, packs and verifies every tarball of a release into outDir:
 * platform packages for `tuples` (their npm/<tuple> directories under npmDir), the facade listing
 * exactly those as optionalDependencies, and @dgramx/unix-dgram.
 * Returns [{ name, version, tgz, kind }] in publish order (platform packages, facade, unix-dgram).
 */
export function buildTarballs({ npmDir, tuples, outDir }) {
  const facade = readJson(path.join(facadeDir, 'package.json'))
  const version = facade.version
  const versions = workspaceVersions()
  const out = []
  const problems = []
  const add = (srcDir, manifest, expect) => {
    const dir = stage(srcDir, manifest)
    try {
      const tgz = pack(dir, outDir)
      const v = verifyTarball(tgz, expect)
      problems.push(...v.problems)
      out.push({ name: manifest.name, version: manifest.version, tgz, kind: expect.kind })
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  }
  for (const tuple of tuples) {
    const dir = path.join(npmDir, tuple)
    const pkg = readJson(path.join(dir, 'package.json'))
    const binary = `${facade.napi.binaryName}.${tuple}.node`
    if (pkg.version !== version) problems.push(`${pkg.name} is ${pkg.version}, the facade ${version} (node scripts/versions.mjs sync)`)
    if (JSON.stringify(pkg.files) !== JSON.stringify([binary])) problems.push(`${pkg.name} "files" must be ["${binary}"]`)
    if (pkg.name !== `${facade.napi.packageName}-${tuple}`) problems.push(`npm/${tuple} is named ${pkg.name}`)
    add(dir, pkg, { kind: 'platform', tuple, binaryName: facade.napi.binaryName, version })
  }
  const staged = facadeManifest(facade, tuples, versions)
  add(facadeDir, staged, { kind: 'facade', version, changelog: true, optionalDependencies: staged.optionalDependencies })
  const unix = readJson(path.join(unixDgramDir, 'package.json'))
  add(unixDgramDir, rewriteWorkspaceRanges(unix, versions), { kind: 'library', version: unix.version, changelog: true })
  if (problems.length) throw new Error(`publish: the tarballs are not publishable:\n  ${problems.join('\n  ')}`)
  return out
}
