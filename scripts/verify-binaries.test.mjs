// node --test scripts/verify-binaries.test.mjs
// The checks against real binaries: the host build (always present after `pnpm run build:native`)
// copied under other packages' names must fail for the right reason, and every binary that
// scripts/build-target.sh left in target/release-targets must pass with --release.
import assert from 'node:assert/strict'
import { copyFileSync, existsSync, mkdtempSync, rmSync } from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { after, describe, test } from 'node:test'
import { fileURLToPath } from 'node:url'
import { check, findBinaries, STAND_INS } from './verify-binaries.mjs'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
// The development build, or scripts/build-target.sh's linux-x64-gnu when that is all there is.
const host = [
  path.join(root, 'packages/dgram/native/dgram.linux-x64-gnu.node'),
  path.join(root, 'target/release-targets/linux-x64-gnu/dgram.linux-x64-gnu.node'),
].find((f) => existsSync(f))
assert.ok(host, 'no linux-x64-gnu binary: run pnpm run build:native or scripts/build-target.sh first')
const tmp = mkdtempSync(path.join(os.tmpdir(), 'verify-binaries-'))
after(() => rmSync(tmp, { recursive: true, force: true }))

/** The host build under another tuple's file name. */
function as(tuple) {
  const file = path.join(tmp, `dgram.${tuple}.node`)
  copyFileSync(host, file)
  return check(file)
}

describe('the host build (linux-x64-gnu)', () => {
  test('passes as itself, exporting the module and importing Node-API from the host', () => {
    const r = as('linux-x64-gnu')
    assert.deepEqual(r.problems, [])
    assert.match(r.info, /NEEDED .*libc\.so\.6/)
    assert.match(r.info, /[1-9][0-9]* napi_\* from the host/)
  })

  test('is held to the release glibc floor only with --release', () => {
    const file = path.join(tmp, 'dgram.linux-x64-gnu.node')
    copyFileSync(host, file)
    const need = /needs GLIBC_([0-9.]+)/.exec(check(file).info)[1]
    const release = check(file, { release: true })
    if (need.split('.').map(Number)[1] > 17) assert.match(release.problems.join(), /more than the release floor GLIBC_2\.17/)
    else assert.deepEqual(release.problems, [])
  })

  test('fails in a musl package: it needs glibc', () => {
    assert.match(as('linux-x64-musl').problems.join(), /musl package must hold a binary that needs musl's libc/)
  })

  test('fails in the arm64 and armv7 packages: wrong machine and class', () => {
    assert.match(as('linux-arm64-gnu').problems.join(), /ELF machine 62, expected 183/)
    assert.match(as('linux-arm-gnueabihf').problems.join(), /64-bit, expected 32-bit/)
  })

  test('fails in the FreeBSD package: no libc.so.7', () => {
    assert.match(as('freebsd-x64').problems.join(), /must need libc\.so\.7/)
  })

  test('fails in the darwin and windows packages: not Mach-O / PE', () => {
    assert.match(as('darwin-arm64').problems.join(), /not a 64-bit little-endian Mach-O/)
    assert.match(as('win32-x64-msvc').problems.join(), /not a PE file/)
  })

  test('fails as the windows-gnu stand-in, which is checked as a PE file', () => {
    assert.ok(STAND_INS['win32-x64-gnu'])
    assert.match(as('win32-x64-gnu').problems.join(), /not a PE file/)
  })

  test('a tuple with no npm package and no stand-in rule is a clear failure, not a crash', () => {
    assert.match(as('linux-riscv64-gnu').problems.join(), /no npm\/linux-riscv64-gnu package, and not a known stand-in/)
  })
})

const built = path.join(root, 'target/release-targets')
const releaseBinaries = existsSync(built) ? findBinaries(built) : []
describe('binaries built by scripts/build-target.sh', { skip: releaseBinaries.length === 0 && 'none built (bash scripts/build-all-targets.sh)' }, () => {
  for (const file of releaseBinaries) {
    test(path.basename(file), () => {
      const r = check(file, { release: true })
      assert.deepEqual(r.problems, [], r.info)
    })
  }
})
