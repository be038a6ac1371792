// prepack guard of the published workspace packages: a hand `npm pack`/`npm publish` (or pnpm's)
// from the source directory fails here with the reason, because that package.json is not what a
// user may install. The facade's optionalDependencies on the platform packages are written only
// into the staged copy by scripts/publish.mjs (committing them would name versions that are not
// on the registry yet after every version bump, and `pnpm install` in this workspace would fail
// to resolve them); without them the tarball installs no native binary. `workspace:` ranges are
// rewritten to exact versions there too. The staged copy has no scripts, so this never runs on it.
import { readFileSync } from 'node:fs'
import path from 'node:path'
import { TUPLES } from './tarballs.mjs'

const pkg = JSON.parse(readFileSync(path.join(process.cwd(), 'package.json'), 'utf8'))
const problems = []
for (const field of ['dependencies', 'optionalDependencies', 'peerDependencies']) {
  for (const [name, range] of Object.entries(pkg[field] ?? {})) {
    if (String(range).startsWith('workspace:')) problems.push(`${field}.${name} is "${range}", which no registry user can resolve`)
  }
}
if (pkg.napi) {
  const opt = pkg.optionalDependencies ?? {}
  const missing = pkg.napi.targets.map((t) => `${pkg.napi.packageName}-${TUPLES[t]}`).filter((n) => opt[n] !== pkg.version)
  if (missing.length) problems.push(`optionalDependencies lack ${missing.length} platform packages at exactly ${pkg.version} (${missing.join(', ')}): the package would install no native binary`)
}
if (problems.length) {
  console.error(
    `\n${pkg.name}: refusing to pack or publish from the source directory:\n  ${problems.join('\n  ')}\n` +
      'Release with `node scripts/publish.mjs` from the repository root (--dry-run to try it, --pack-only\n' +
      'for the verified tarballs): it stages a complete package.json and checks every tarball.\n',
  )
  process.exit(1)
}
