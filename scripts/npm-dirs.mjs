// Regenerates npm/<platformArchABI>/package.json for every napi target with the napi CLI
// (`napi create-npm-dirs`, run from the repo root so it sees the workspace), then adds the one
// field the CLI leaves out: `libc: ["glibc"]` for linux-arm-gnueabihf (it sets libc only for the
// -gnu and -musl ABIs), so npm and pnpm skip that package on musl; and the repository's LICENSE
// in every package directory (npm packs a LICENSE file whatever "files" says, and the MIT terms
// require the notice in each copy we distribute).
// CI runs this and fails on `git diff --exit-code npm/`: the committed files must be exactly these.
import { execFileSync } from 'node:child_process'
import { copyFileSync, readdirSync, readFileSync, writeFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
execFileSync(
  'pnpm',
  ['--filter', '@dgramx/dgram', 'exec', 'napi', 'create-npm-dirs', '--cwd', root, '--package-json-path', 'packages/dgram/package.json', '--npm-dir', 'npm'],
  { cwd: root, stdio: 'inherit' },
)
const p = path.join(root, 'npm/linux-arm-gnueabihf/package.json')
const pkg = JSON.parse(readFileSync(p, 'utf8'))
if (!pkg.libc) {
  pkg.libc = ['glibc']
  writeFileSync(p, `${JSON.stringify(pkg, null, 2)}\n`)
}
for (const dir of readdirSync(path.join(root, 'npm'))) {
  copyFileSync(path.join(root, 'LICENSE'), path.join(root, 'npm', dir, 'LICENSE'))
}
