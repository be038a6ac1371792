// The published shape: CommonJS and ESM entry points sharing one implementation, types, and a
// tarball without native binaries. dist/ is built by test/global-setup.ts.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from './harness'
import { timeScale } from './time-scale'

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
  return execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 15_000 * timeScale })
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
    // Written at publish time only (scripts/publish.mjs), never committed.
    expect(pkg.optionalDependencies).toBeUndefined()
  })

  it('require() by name gives the node:dgram-shaped module', () => {
    const out = run(consumer(), [
      '-e',
      `const d = require('@dgramx/dgram');
       console.log(JSON.stringify({ keys: Object.keys(d).sort(), def: Object.keys(d.default).sort(), same: d.default.createSocket === d.createSocket, type: typeof d.Socket }));`,
    ])
    expect(JSON.parse(out)).toEqual({ keys: ['Socket', 'createSocket', 'default', 'kNative', 'promises'], def: ['Socket', 'createSocket', 'promises'], same: true, type: 'function' })
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
