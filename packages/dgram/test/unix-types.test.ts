// Type-level check of the unix_dgram API and the helper subpaths: test/types-unix/unix.ts must
// type-check against the built .d.ts (including its @ts-expect-error lines).
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { expect, it } from 'vitest'

it('the unix_dgram API and the sd-notify / syslog subpaths are typed (tsc)', () => {
  const root = path.resolve(__dirname, '..')
  let output = ''
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'test/types-unix/tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e)
  }
  expect(output).toBe('')
}, 90_000) // tsc over @types/node takes a while on a busy machine
