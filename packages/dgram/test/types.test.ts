// Type-level checks with tsc against the built .d.ts: each fixture must type-check, including
// its @ts-expect-error lines (an expected error that does not happen fails tsc too).
//   test/types/swap.ts          interchangeable with @types/node's dgram where the APIs overlap
//   test/types-strict/strict.ts strict users: promises overloads, inferred rinfo, async
//                               iteration, the promises entry, the module as node:dgram,
//                               pause/resume, socketpair, the setters' return rule
//   test/types-oldest           all fixtures against the oldest @types/node we declare
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { expect, it } from 'vitest'
import { tempDir } from './harness'

const root = path.resolve(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8'))

function tsc(project: string, cwd = root): string {
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', project], { cwd, encoding: 'utf8', timeout: 120_000 })
    return ''
  } catch (e) {
    return String((e as { stdout?: string }).stdout ?? e)
  }
}

it('the .d.ts is interchangeable with @types/node dgram where the APIs overlap (tsc)', () => {
  expect(tsc('test/types/tsconfig.json')).toBe('')
}, 150_000)

it('strict TypeScript: the README example compiles, rinfo follows the socket, wrong calls are errors (tsc)', () => {
  expect(tsc('test/types-strict/tsconfig.json')).toBe('')
}, 150_000)

it('the types hold with the oldest @types/node that peerDependencies allow (tsc)', () => {
  const oldest = fs.realpathSync(path.join(root, 'node_modules', '@types', 'node-oldest'))
  const version = JSON.parse(fs.readFileSync(path.join(oldest, 'package.json'), 'utf8')).version
  // The declared floor is the version tested here.
  expect(pkg.peerDependencies['@types/node']).toBe(`>=${version}`)
  expect(pkg.peerDependenciesMeta['@types/node']).toEqual({ optional: true })
  // A tree where "node" types are that version alone, beside a copy of the fixtures' layout.
  const dir = tempDir()
  const types = path.join(dir, 'node_modules', '@types')
  fs.mkdirSync(types, { recursive: true })
  fs.symlinkSync(oldest, path.join(types, 'node'), 'dir')
  fs.symlinkSync(fs.realpathSync(path.join(oldest, '..', '..', 'undici-types')), path.join(dir, 'node_modules', 'undici-types'), 'dir')
  const test = path.join(dir, 'pkg', 'test')
  fs.mkdirSync(test, { recursive: true })
  fs.symlinkSync(path.join(root, 'dist'), path.join(dir, 'pkg', 'dist'), 'dir')
  for (const fixture of ['types', 'types-strict', 'types-unix', 'types-oldest']) fs.cpSync(path.join(root, 'test', fixture), path.join(test, fixture), { recursive: true })
  const out = tsc('test/types-oldest/tsconfig.json', path.join(dir, 'pkg'))
  expect(out).toBe('')
}, 150_000)
