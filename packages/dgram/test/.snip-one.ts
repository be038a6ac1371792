import fs from 'node:fs'
import path from 'node:path'
import { extractBlocks, isRunnable, policyProblems, prepare, repoRoot, runTwice, snippetDir, typeCheck } from './doc-snippets'
const file = process.argv[2]!
const all = extractBlocks(fs.readFileSync(path.join(repoRoot, file), 'utf8'), file)
const dir = snippetDir()
;(async () => {
  for (const b of all) for (const p of policyProblems(b, all)) console.log('POLICY', p)
  for (const [i, b] of all.entries()) {
    if (!isRunnable(b)) continue
    if (b.platforms && !b.platforms.includes(process.platform)) { console.log('skip', b.line); continue }
    const p = prepare(b, dir, `x${i}`)
    const te = p.tsSource ? typeCheck([p.tsSource]).get(p.tsSource)! : []
    const probs = [...te, ...(await runTwice(p, 20000))]
    console.log(probs.length ? 'FAIL' : 'ok  ', file, b.line, probs.join('\n'))
  }
  fs.rmSync(dir, { recursive: true, force: true })
})()
