// Builds dist/ once before the suite: the packaging and lifetime tests run the published
// entry points (CJS and ESM) in child processes, which cannot load TypeScript.
import { execFileSync } from 'node:child_process'
import path from 'node:path'

export default function setup(): void {
  const root = path.resolve(__dirname, '..')
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  execFileSync(process.execPath, ['scripts/emit-esm.cjs'], { cwd: root, stdio: 'inherit' })
}
