// Type-level drop-in check: test/types/swap.ts must type-check against the built .d.ts.
import { execFileSync } from 'node:child_process'
import path from 'node:path'
import { expect, it } from 'vitest'

it('the .d.ts is interchangeable with @types/node dgram where the APIs overlap (tsc)', () => {
  const root = path.resolve(__dirname, '..')
  let output = ''
  try {
    execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'test/types/tsconfig.json'], { cwd: root, encoding: 'utf8', timeout: 60_000 })
  } catch (e) {
    output = String((e as { stdout?: string }).stdout ?? e)
  }
  expect(output).toBe('')
})
