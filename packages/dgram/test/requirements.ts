// What the real-peer, syscall-count and namespace tests need from the machine beyond Node and
// Rust. The global setup provisions what it can (root with apt-get, as on CI and most fresh
// Debian/Ubuntu boxes); whatever is still missing makes exactly the tests that need it skip, with
// a loud banner naming it and how to install it. DGRAMX_REQUIRE_PEERS=1 (set by .ci/run) turns a
// missing requirement into a failed run instead, so nothing is skipped in CI.
import { spawnSync } from 'node:child_process'

export interface Requirement {
  /** Debian package that brings it, when apt-get can. */
  debian?: string
  /** Who needs it, for the banner. */
  usedBy: string
  present(): boolean
}

const onPath = (tool: string) => (): boolean => spawnSync('sh', ['-c', `command -v ${tool}`], { stdio: 'ignore' }).status === 0
const isRoot = (): boolean => process.getuid?.() === 0

export const requirements = {
  logger: { debian: 'bsdutils', usedBy: 'peers.test.ts (logger(1) peer)', present: onPath('logger') },
  socat: { debian: 'socat', usedBy: 'peers.test.ts (socat peer)', present: onPath('socat') },
  python3: { debian: 'python3', usedBy: 'peers.test.ts (python peer)', present: onPath('python3') },
  'systemd-notify': { debian: 'systemd', usedBy: 'peers.test.ts (systemd-notify peer)', present: onPath('systemd-notify') },
  strace: { debian: 'strace', usedBy: 'tick-batch.test.ts (syscall counts)', present: onPath('strace') },
  ip: { debian: 'iproute2', usedBy: 'netns.test.ts (test hosts in network namespaces)', present: onPath('ip') },
  root: { usedBy: 'netns.test.ts (ip netns add needs root)', present: isRoot },
} satisfies Record<string, Requirement>

export type RequirementName = keyof typeof requirements

export function missingRequirements(): RequirementName[] {
  return (Object.keys(requirements) as RequirementName[]).filter((name) => !requirements[name].present())
}

/** How a person gets what is missing. */
export function installHint(missing: readonly RequirementName[]): string {
  const packages = missing.map((name) => (requirements[name] as Requirement).debian).filter((p): p is string => p !== undefined)
  const hints: string[] = []
  if (packages.length > 0) hints.push(`apt-get install -y --no-install-recommends ${packages.join(' ')}`)
  if (missing.includes('root')) hints.push('run the suite as root')
  return hints.join('; ')
}
