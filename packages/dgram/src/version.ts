// node:dgram's behaviour changed across releases; we follow the Node we run on (or, under Bun
// and Deno, the Node release they claim to be in process.versions.node).

/** For each release line that got a change, its first release there: [minor, patch]. */
export type Since = Record<number, [number, number]>

// Probed on the releases from npm: 25.x (to 25.9) has none of these.
/** bindSync / connectSync. */
export const SYNC_API: Since = { 24: [19, 0], 26: [4, 0] }
/** The string '0' refused where port 0 is not allowed. */
export const STRING_ZERO_REFUSED: Since = { 24: [19, 0], 26: [5, 0] }
/** The bind callback's cleanup on errorMonitor: bind errors no longer swallowed by it. */
export const BIND_CLEANUP_ON_ERROR_MONITOR: Since = { 24: [21, 0], 26: [8, 0] }

/**
 * Whether `version` has a change that landed on several release lines separately. Lines newer
 * than every listed one have it; a line that is not listed (older, or 25.x between) does not.
 */
export function nodeHas(since: Since, version = process.versions.node): boolean {
  const [major, minor, patch] = version.split('.').map((n) => Number.parseInt(n, 10))
  if (major > Math.max(...Object.keys(since).map(Number))) return true
  const first = since[major]
  if (first === undefined) return false
  const [wantMinor, wantPatch] = first
  if (minor !== wantMinor) return minor > wantMinor
  return patch >= wantPatch
}

/** Whether the running release is `want` or later by number alone (same line or newer line). */
export function nodeAtLeast(wantMajor: number, wantMinor: number, wantPatch: number): boolean {
  return nodeHas({ [wantMajor]: [wantMinor, wantPatch] })
}
