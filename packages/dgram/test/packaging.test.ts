// The published shape: CommonJS and ESM entry points sharing one implementation, types, and a
// tarball without native binaries. dist/ is built by test/global-setup.ts.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { pathToFileURL } from 'node:url'
import { beforeAll, describe, expect, it } from 'vitest'
import { tempDir } from './harness'
import { timeScale } from './time-scale'
import { referenceNode } from './runtime'

const pkgDir = path.resolve(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))

/** A project that depends on @dgramx/dgram (linked), to resolve it by name like a user would. */
function consumer(): string {
  const dir = tempDir()
  fs.mkdirSync(path.join(dir, 'node_modules', '@dgramx'), { recursive: true })
  fs.symlinkSync(pkgDir, path.join(dir, 'node_modules', '@dgramx', 'dgram'), 'dir')
  return dir
}

function run(dir: string, args: string[]): string {
  return execFileSync(referenceNode, args, { cwd: dir, encoding: 'utf8', timeout: 15_000 * timeScale })
}

describe('package', () => {
  it('package.json has the required identity and entry points', () => {
    expect(pkg.name).toBe('@dgramx/dgram')
    // One version for the facade, every npm/* package and the crates (scripts/versions.mjs).
    expect(pkg.version).toMatch(/^\d+\.\d+\.\d+(-[0-9A-Za-z.-]+)?$/)
    expect(pkg.license).toBe('MIT')
    expect(pkg.engines.node).toBe('>=20')
    expect(pkg.exports['.'].require.default).toBe('./dist/index.js')
    expect(pkg.exports['.'].import.default).toBe('./dist/index.mjs')
    expect(pkg.files).toContain('!**/*.node')
    expect(pkg.napi.binaryName).toBe('dgram')
    expect(pkg.napi.packageName).toBe('@dgramx/dgram')
    expect(pkg.napi.targets).toHaveLength(10)
    expect(pkg.napi.targets).toContain('x86_64-unknown-linux-gnu')
    // Written into the staged copy at publish time only (scripts/publish.mjs), never committed:
    // the prepack guard makes a hand pack of this directory fail instead (see 'release' below).
    expect(pkg.optionalDependencies).toBeUndefined()
    expect(pkg.scripts.prepack).toBe('node ../../scripts/release/refuse-hand-pack.mjs')
  })

  it('require() by name gives the node:dgram-shaped module', () => {
    const out = run(consumer(), [
      '-e',
      `const d = require('@dgramx/dgram');
       console.log(JSON.stringify({ keys: Object.keys(d).sort(), def: Object.keys(d.default).sort(), same: d.default.createSocket === d.createSocket, type: typeof d.Socket }));`,
    ])
    expect(JSON.parse(out)).toEqual({ keys: ['MessageBatch', 'Socket', '_createSocketHandle', 'createSocket', 'default', 'kNative', 'promises', 'socketpair', 'unixSync'], def: ['Socket', '_createSocketHandle', 'createSocket', 'promises', 'socketpair'], same: true, type: 'function' })
  })

  it('import by name gives the same class as require (no dual-package hazard)', () => {
    const dir = consumer()
    fs.writeFileSync(
      path.join(dir, 'check.mjs'),
      `import dgram, { createSocket, Socket, kNative } from '@dgramx/dgram';
       import { createRequire } from 'node:module';
       import * as ns from '@dgramx/dgram';
       const cjs = createRequire(import.meta.url)('@dgramx/dgram');
       const s = createSocket('udp4');
       console.log(JSON.stringify({
         sameClass: Socket === cjs.Socket && s instanceof cjs.Socket,
         sameDefault: dgram === cjs.default,
         kNative: kNative === cjs.kNative,
         names: Object.keys(ns).sort(),
       }));
       s.close();`,
    )
    expect(JSON.parse(run(dir, ['check.mjs']))).toEqual({
      sameClass: true,
      sameDefault: true,
      kNative: true,
      names: Object.keys(require(path.join(pkgDir, 'dist', 'index.js'))).sort(),
    })
  })

  it('a UDP round trip works through the ESM entry point', () => {
    const dir = consumer()
    fs.writeFileSync(
      path.join(dir, 'rt.mjs'),
      `import { createSocket } from '@dgramx/dgram';
       import { once } from 'node:events';
       const server = createSocket('udp4');
       server.bind(0, '127.0.0.1');
       await once(server, 'listening');
       const client = createSocket('udp4');
       client.send('esm', server.address().port, '127.0.0.1');
       const [msg] = await once(server, 'message');
       console.log(String(msg));
       client.close(); server.close();`,
    )
    expect(run(dir, ['rt.mjs'])).toBe('esm\n')
  })

  it('ships type declarations for both entry points', () => {
    expect(fs.existsSync(path.join(pkgDir, 'dist', 'index.d.ts'))).toBe(true)
    expect(fs.readFileSync(path.join(pkgDir, 'dist', 'index.d.mts'), 'utf8')).toContain("export * from './index.js'")
    const dts = fs.readFileSync(path.join(pkgDir, 'dist', 'socket.d.ts'), 'utf8')
    expect(dts).toContain('export declare class Socket extends EventEmitter')
  })

  it('the tarball holds no native binary, but the generated loader', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8', timeout: 60_000 })
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path)
    expect(files.filter((f) => f.endsWith('.node'))).toEqual([])
    expect(files).toContain('native/binding.cjs')
    expect(files).toContain('dist/index.js')
    expect(files).toContain('dist/index.mjs')
    expect(files).toContain('dist/index.d.ts')
    expect(files.filter((f) => f.startsWith('src/') || f.startsWith('test/'))).toEqual([])
  })
})

// The release path (scripts/publish.mjs and scripts/release/tarballs.mjs). The registry test
// publishes the real tarballs and checks them again; these are the parts that need no registry.
describe('release', () => {
  const repo = path.resolve(pkgDir, '../..')
  const license = fs.readFileSync(path.join(repo, 'LICENSE'), 'utf8')
  // Not a literal specifier, so tsc does not look for declarations of the .mjs module.
  const tarballsModule = pathToFileURL(path.join(repo, 'scripts/release/tarballs.mjs')).href
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  let rel: any
  let files: string[]
  beforeAll(async () => {
    rel = await import(tarballsModule)
    files = rel.packList(pkgDir)
  }, 60_000 * timeScale)

  const node = (args: string[], cwd = repo) => {
    try {
      return { status: 0, out: execFileSync(process.execPath, args, { cwd, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 * timeScale }) }
    } catch (e) {
      const err = e as { status: number; stdout: string; stderr: string }
      return { status: err.status, out: `${err.stdout}${err.stderr}` }
    }
  }

  it('LICENSE: MIT, "dgramx contributors", 2026, at the root and identical in every published package', () => {
    expect(license).toMatch(/^MIT License\n\nCopyright \(c\) 2026 dgramx contributors\n/)
    const dirs = [pkgDir, path.join(repo, 'packages/unix-dgram'), ...fs.readdirSync(path.join(repo, 'npm')).map((d) => path.join(repo, 'npm', d))]
    expect(dirs.length).toBe(12)
    for (const dir of dirs) {
      expect(fs.readFileSync(path.join(dir, 'LICENSE'), 'utf8'), dir).toBe(license)
      expect(fs.existsSync(path.join(dir, 'README.md')), dir).toBe(true)
    }
  })

  it("the facade's tarball: LICENSE, README.md whose relative links all resolve inside it, CHANGELOG.md", () => {
    expect(files).toContain('LICENSE')
    expect(files).toContain('README.md')
    expect(files).toContain('CHANGELOG.md')
    expect(rel.danglingLinks(fs.readFileSync(path.join(pkgDir, 'README.md'), 'utf8'), files)).toEqual([])
    expect(fs.readFileSync(path.join(pkgDir, 'CHANGELOG.md'), 'utf8')).toMatch(/^# @dgramx\/dgram\n/)
  })

  it('source maps either carry sourcesContent or are not shipped', () => {
    const maps = files.filter((f) => f.endsWith('.map'))
    for (const map of maps) {
      const m = JSON.parse(fs.readFileSync(path.join(pkgDir, map), 'utf8'))
      const shipped = m.sources.every((src: string) => files.includes(path.posix.join(path.posix.dirname(map), src)))
      const inline = Array.isArray(m.sourcesContent) && m.sourcesContent.length === m.sources.length && m.sourcesContent.every((c: unknown) => typeof c === 'string' && c.length > 0)
      expect(shipped || inline, map).toBe(true)
    }
  })

  it('the published facade manifest: optionalDependencies on all napi targets at exactly its version, no workspace:, no scripts', () => {
    const staged = rel.publishedManifest(rel.facadeManifest(pkg, rel.allTuples(pkg)))
    const want = Object.fromEntries(pkg.napi.targets.map((t: string) => [`@dgramx/dgram-${rel.TUPLES[t]}`, pkg.version]))
    expect(Object.keys(want)).toHaveLength(10)
    expect(staged.optionalDependencies).toEqual(want)
    for (const tuple of rel.allTuples(pkg)) expect(fs.existsSync(path.join(repo, 'npm', tuple, 'package.json')), tuple).toBe(true)
    expect(JSON.stringify(staged)).not.toContain('workspace:')
    expect(staged.scripts).toBeUndefined()
    expect(staged.devDependencies).toBeUndefined()
  })

  it('@dgramx/unix-dgram: workspace:* becomes exactly the facade version; it shares that version and ships LICENSE/README/CHANGELOG', () => {
    const unixDir = path.join(repo, 'packages/unix-dgram')
    const unix = JSON.parse(fs.readFileSync(path.join(unixDir, 'package.json'), 'utf8'))
    expect(unix.dependencies['@dgramx/dgram']).toMatch(/^workspace:/)
    const staged = rel.publishedManifest(rel.rewriteWorkspaceRanges(unix))
    expect(staged.dependencies['@dgramx/dgram']).toBe(pkg.version)
    expect(JSON.stringify(staged)).not.toContain('workspace:')
    // Pinned exactly, so it is released with every facade version (.changeset/config.json `fixed`).
    expect(unix.version).toBe(pkg.version)
    const fixed = JSON.parse(fs.readFileSync(path.join(repo, '.changeset/config.json'), 'utf8')).fixed
    expect(fixed).toContainEqual(expect.arrayContaining(['@dgramx/dgram', '@dgramx/dgram-*', '@dgramx/unix-dgram']))
    const unixFiles: string[] = rel.packList(unixDir)
    for (const f of ['LICENSE', 'README.md', 'CHANGELOG.md', 'index.js', 'index.d.ts']) expect(unixFiles).toContain(f)
  }, 60_000 * timeScale)

  it('a hand npm pack of the facade or of @dgramx/unix-dgram fails, saying why and what to run', () => {
    for (const [dir, reason] of [
      [pkgDir, 'optionalDependencies lack 10 platform packages'],
      [path.join(repo, 'packages/unix-dgram'), 'dependencies.@dgramx/dgram is "workspace:*"'],
    ]) {
      let out = ''
      let status = 0
      try {
        execFileSync('npm', ['pack', '--dry-run'], { cwd: dir, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 60_000 })
      } catch (e) {
        const err = e as { status: number; stdout: string; stderr: string }
        status = err.status
        out = `${err.stdout}${err.stderr}`
      }
      expect(status, dir).not.toBe(0)
      expect(out).toContain('refusing to pack or publish from the source directory')
      expect(out).toContain(reason)
      expect(out).toContain('node scripts/publish.mjs')
    }
  }, 60_000 * timeScale)

  it('the prepack guard lets a complete manifest through', () => {
    const dir = tempDir()
    fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify(rel.facadeManifest(pkg, rel.allTuples(pkg))))
    expect(node([path.join(repo, 'scripts/release/refuse-hand-pack.mjs')], dir)).toEqual({ status: 0, out: '' })
  })

  it('publish refuses while any target lacks its binary, naming each, before touching a registry', () => {
    const npmDir = tempDir()
    fs.cpSync(path.join(repo, 'npm'), npmDir, { recursive: true, filter: (src) => !src.endsWith('.node') })
    fs.writeFileSync(path.join(npmDir, 'linux-x64-gnu', 'dgram.linux-x64-gnu.node'), 'only this one is present')
    // An unreachable registry: the refusal must come before any registry call.
    const r = node(['scripts/publish.mjs', '--registry', 'http://127.0.0.1:9/', '--npm-dir', npmDir])
    expect(r.status).toBe(1)
    expect(r.out).toContain('refusing to publish: no binary for 9 of 10 targets')
    const named = [...r.out.matchAll(/^ {2}(\S+) {2}\(/gm)].map((m) => m[1]).sort()
    expect(named).toEqual(rel.allTuples(pkg).filter((t: string) => t !== 'linux-x64-gnu').sort())
    expect(r.out).toContain('Nothing was published')
  }, 60_000 * timeScale)

  it('publish: --only-built is gone, --targets must name known targets', () => {
    expect(node(['scripts/publish.mjs', '--only-built'])).toMatchObject({ status: 1, out: expect.stringContaining('--only-built is gone') })
    expect(node(['scripts/publish.mjs', '--targets', 'linux-x64-gnu,plan9-x64'])).toMatchObject({ status: 1, out: expect.stringContaining('unknown targets: plan9-x64') })
  })
})
