// Runs once before the suite: builds dist/ (the packaging and lifetime tests run the published
// entry points, CJS and ESM, in child processes, which cannot load TypeScript) and provisions the
// tools the real-peer tests need (requirements.ts).
import { execFileSync, spawnSync } from 'node:child_process'
import path from 'node:path'
import type { TestProject } from 'vitest/node'
import { installHint, missingRequirements, requirements, type RequirementName } from './requirements'

export default function setup(project: TestProject): () => void {
  const root = path.resolve(__dirname, '..')
  execFileSync(process.execPath, [require.resolve('typescript/bin/tsc'), '-p', 'tsconfig.build.json'], { cwd: root, stdio: 'inherit' })
  execFileSync(process.execPath, ['scripts/emit-esm.cjs'], { cwd: root, stdio: 'inherit' })

  const missing = provision()
  if (missing.length > 0 && process.env.DGRAMX_REQUIRE_PEERS === '1') {
    throw new Error(`DGRAMX_REQUIRE_PEERS=1 but the machine lacks ${missing.join(', ')}: ${installHint(missing)}`)
  }
  project.provide('missingRequirements', missing)
  banner(missing)
  // Again at the end, where a person reading the summary will see it.
  return () => banner(missing)
}

/** Installs what apt-get can when we are root; returns what is still missing. */
function provision(): RequirementName[] {
  const before = missingRequirements()
  const packages = before.map((name) => (requirements[name] as { debian?: string }).debian).filter((p): p is string => p !== undefined)
  const canApt = process.getuid?.() === 0 && spawnSync('sh', ['-c', 'command -v apt-get'], { stdio: 'ignore' }).status === 0
  if (packages.length > 0 && canApt && process.env.DGRAMX_NO_PROVISION !== '1') {
    console.log(`[dgramx tests] installing what the real-peer tests need: apt-get install ${packages.join(' ')}`)
    const env = { ...process.env, DEBIAN_FRONTEND: 'noninteractive' }
    const update = spawnSync('apt-get', ['update', '-qq'], { stdio: 'inherit', env, timeout: 300_000 })
    if (update.status === 0) {
      spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...packages], { stdio: 'inherit', env, timeout: 600_000 })
    }
  }
  return missingRequirements()
}

function banner(missing: RequirementName[]): void {
  if (missing.length === 0) return
  const lines = [
    '',
    '!'.repeat(100),
    `!! SKIPPED: tests that need ${missing.join(', ')}, which this machine lacks:`,
    ...missing.map((name) => `!!   ${name}: ${requirements[name].usedBy}`),
    `!! To run them: ${installHint(missing)}`,
    '!'.repeat(100),
    '',
  ]
  console.warn(lines.join('\n'))
}
