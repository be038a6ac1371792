// What action-validator's schema check does not cover in .github/workflows/*.yml:
//   - every local `uses: ./…` (reusable workflow or action) exists in the repository;
//   - every remote action is pinned to a version tag or a commit SHA (no @main/@master/@HEAD);
//   - every artifact a job downloads by name is uploaded by some workflow (bindings-<tuple>
//     names are expanded over the napi targets).
// Prints the actions and versions in use.
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')
const dir = path.join(root, '.github/workflows')
const problems = []
const actions = new Set()
const uploads = new Set()
const downloads = []

for (const file of readdirSync(dir).filter((f) => /\.ya?ml$/.test(f))) {
  const text = readFileSync(path.join(dir, file), 'utf8')
  for (const m of text.matchAll(/uses:\s*['"]?([^\s'"#]+)/g)) {
    const ref = m[1]
    if (ref.startsWith('./')) {
      if (!existsSync(path.join(root, ref))) problems.push(`${file}: uses ${ref}, which does not exist`)
    } else if (ref.startsWith('docker://')) {
      actions.add(ref)
    } else {
      const [, version] = ref.split('@')
      if (!version || /^(main|master|head|latest)$/i.test(version)) problems.push(`${file}: ${ref} is not pinned to a tag or SHA`)
      actions.add(ref)
    }
  }
  // upload-artifact / download-artifact names (the `name:` line right under `with:` of such a step)
  for (const m of text.matchAll(/uses: actions\/(upload|download)-artifact@\S+\n\s+with:\n\s+name: (.+)/g)) {
    if (m[1] === 'upload') uploads.add(m[2].trim())
    else downloads.push({ file, name: m[2].trim() })
  }
}

const tuples = readdirSync(path.join(root, 'npm'))
const expand = (name) => (name.includes('${{') ? tuples.map((t) => name.replace(/\$\{\{ matrix\.tuple \}\}/, t)) : [name])
const uploaded = new Set([...uploads].flatMap(expand))
for (const { file, name } of downloads) {
  if (name.includes('${{') && !name.includes('matrix.tuple')) continue
  for (const n of expand(name)) if (!uploaded.has(n)) problems.push(`${file}: downloads ${n}, which nothing uploads`)
}
for (const t of tuples) if (!uploaded.has(`bindings-${t}`)) problems.push(`no workflow uploads bindings-${t}`)

console.log(`workflows: actions in use: ${[...actions].sort().join(', ')}`)
if (problems.length) {
  console.error(`workflows:\n  ${problems.join('\n  ')}`)
  process.exit(1)
}
console.log(`workflows: local references exist, remote actions pinned, ${uploaded.size} artifacts uploaded for ${tuples.length} targets`)
