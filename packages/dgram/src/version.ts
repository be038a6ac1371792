// node:dgram's behaviour changed across releases; we follow the Node we run on.

const [major, minor, patch] = process.versions.node.split('.').map((n) => Number.parseInt(n, 10))

export function nodeAtLeast(wantMajor: number, wantMinor: number, wantPatch: number): boolean {
  if (major !== wantMajor) return major > wantMajor
  if (minor !== wantMinor) return minor > wantMinor
  return patch >= wantPatch
}
