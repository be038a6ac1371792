// Every code block of the user-facing docs runs verbatim, twice in a row, against the workspace
// build, and prints what the docs say it prints (rules in doc-snippets.ts). Then the same
// machinery is shown to fail on broken blocks, so this suite cannot pass by accident.
import fs from 'node:fs'
import path from 'node:path'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { extractBlocks, isRunnable, isTypeScript, policyProblems, prepare, repoRoot, runTwice, snippetDir, typeCheck, type Block, type Prepared } from './doc-snippets'
import { isDeno } from './runtime'
import { timeScale } from './time-scale'

// What a snippet needs that Deno does not offer: worker_threads' parentPort.close(), and node:fs
// on descriptors it did not open itself (received ones, rinfo.fds: EBADF).
function denoLacks(block: { code: string }): boolean {
  return /parentPort\.close\(/.test(block.code) || (/rinfo\.fds/.test(block.code) && /fs\.\w+Sync\(fd\b/.test(block.code))
}

const DOCS = [
  'README.md',
  ...fs
    .readdirSync(path.join(repoRoot, 'docs'))
    .filter((f) => f.endsWith('.md'))
    .sort()
    .map((f) => `docs/${f}`),
  'packages/dgram/README.md',
  'packages/dgram/DIFFERENCES.md',
  'packages/unix-dgram/README.md',
]

// Generous: the machine may be shared, and a snippet's process starts Node and the addon (under
// QEMU, an emulated Node for each of a file's blocks at once: stretched by the time scale).
const TIMEOUT_MS = 20_000 * timeScale

const blocks: Block[] = DOCS.flatMap((file) => extractBlocks(fs.readFileSync(path.join(repoRoot, file), 'utf8'), file))
const runnable = blocks.filter(isRunnable)

let dir = ''
const prepared = new Map<Block, Prepared>()
let diagnostics = new Map<string, string[]>()

beforeAll(() => {
  dir = snippetDir()
  runnable.forEach((block, i) => {
    const name = `${block.file.replace(/[^a-z0-9]+/gi, '-')}-L${block.line}-${i}`
    prepared.set(block, prepare(block, dir, name))
  })
  diagnostics = typeCheck([...prepared.values()].flatMap((p) => (p.tsSource ? [p.tsSource] : [])))
}, 120_000 * timeScale)

afterAll(() => {
  if (dir) fs.rmSync(dir, { recursive: true, force: true })
})

function runsHere(block: Block): boolean {
  return block.platforms === undefined || block.platforms.includes(process.platform)
}

describe('docs code blocks', () => {
  it('every block follows the rules (runs, is output, parses, or says why not)', () => {
    expect(blocks.length).toBeGreaterThan(20)
    const byFile = new Map<string, Block[]>()
    for (const b of blocks) byFile.set(b.file, [...(byFile.get(b.file) ?? []), b])
    const problems = blocks.flatMap((b) => policyProblems(b, byFile.get(b.file)!))
    expect(problems).toEqual([])
  })

  describe.concurrent.each(DOCS)('%s', (file) => {
    const mine = runnable.filter((b) => b.file === file)
    if (mine.length === 0) {
      it('has no runnable blocks', () => expect(mine).toEqual([]))
      return
    }
    for (const block of mine) {
      const title = `line ${block.line} (${block.lang}${block.output !== undefined ? ', checks its output' : ''})`
      const denoCannot = isDeno && denoLacks(block)
      it.skipIf(!runsHere(block) || denoCannot)(`${title}${runsHere(block) ? '' : ` — only on ${block.platforms!.join(', ')}`}`, async () => {
        const p = prepared.get(block)!
        if (isTypeScript(block)) expect(diagnostics.get(p.tsSource!)).toEqual([])
        expect(await runTwice(p, TIMEOUT_MS)).toEqual([])
      }, TIMEOUT_MS * 2 + 10_000)
    }
  })
})

// The checker itself: each of these broken blocks must be caught.
describe('docs code blocks: the checker catches broken blocks', () => {
  let scratch = ''
  beforeAll(() => {
    scratch = snippetDir()
  })
  afterAll(() => fs.rmSync(scratch, { recursive: true, force: true }))

  const one = (markdown: string): Block[] => extractBlocks(markdown, 'test.md')
  const problemsOf = async (markdown: string, timeoutMs = 10_000 * timeScale): Promise<string[]> => {
    const [block] = one(markdown).filter(isRunnable)
    const p = prepare(block!, scratch, `case-${Math.random().toString(36).slice(2)}`)
    const typeErrors = p.tsSource ? typeCheck([p.tsSource]).get(p.tsSource)! : []
    return [...typeErrors, ...(await runTwice(p, timeoutMs))]
  }

  it('a working block passes, output included (CommonJS and ESM with top-level await)', async () => {
    expect(await problemsOf("```js\nconst { createSocket } = require('@dgramx/dgram')\nconsole.log(typeof createSocket)\n```\n<!-- output -->\n```text\nfunction\n```\n")).toEqual([])
    expect(await problemsOf("```js\nimport { createSocket } from '@dgramx/dgram'\nawait null\nconsole.log(typeof createSocket)\n```\n")).toEqual([])
    expect(await problemsOf('```js\nawait new Promise((r) => setTimeout(r, 1))\n```\n')).toEqual([])
  })

  it('a block that throws, writes to stderr, or prints something else fails', async () => {
    expect((await problemsOf("```js\nthrow new Error('boom')\n```\n")).join()).toMatch(/exit code 1/)
    expect((await problemsOf("```js\nconsole.error('oops')\n```\n")).join()).toMatch(/wrote to stderr/)
    expect((await problemsOf("```js\nconsole.log('a')\n```\n<!-- output -->\n```text\nb\n```\n")).join()).toMatch(/instead of the documented output/)
  })

  it('a block that works once but not twice fails (state left behind)', async () => {
    const code = "```js\nconst fs = require('node:fs'), p = require('node:path').join(require('node:os').tmpdir(), 'once')\nif (fs.existsSync(p)) throw new Error('ran before')\nfs.writeFileSync(p, '')\n```\n"
    expect((await problemsOf(code)).join()).toMatch(/\(run 2\): exit code 1/)
  })

  it('a unix socket file kept after close is left behind and caught', async () => {
    const code =
      "```js\nconst { createSocket } = require('@dgramx/dgram')\nconst s = createSocket({ type: 'unix_dgram', unlinkOnClose: false })\ns.bind(require('node:path').join(require('node:os').tmpdir(), 'kept.sock'), () => s.close())\n```\n"
    expect((await problemsOf(code)).join()).toMatch(/left files behind in its temp directory: kept\.sock/)
  })

  it('a block that never ends fails at its deadline', async () => {
    const code = "```js\nconst s = require('@dgramx/dgram').createSocket('udp4')\ns.bind(0, '127.0.0.1')\n```\n"
    expect((await problemsOf(code, 1500)).join()).toMatch(/still running after 1500 ms/)
  })

  it('a TypeScript block with a type error fails tsc; a correct one runs', { timeout: 90_000 * timeScale }, async () => {
    expect((await problemsOf("```ts\nimport { createSocket } from '@dgramx/dgram'\nconst n: number = createSocket('udp4')\nvoid n\n```\n")).join()).toMatch(/TS2322/)
    expect(await problemsOf("```ts\nimport { createSocket } from '@dgramx/dgram'\nconst s = createSocket('udp4')\ns.bind(0, '127.0.0.1', () => {\n  const port: number = s.address().port\n  console.log(typeof port)\n  s.close()\n})\n```\n<!-- output -->\n```text\nnumber\n```\n")).toEqual([])
  })

  it('the rules: a runnable block marked "not run", an unmarked shell block, bad json, stray output', () => {
    const check = (md: string): string[] => {
      const all = one(md)
      return all.flatMap((b) => policyProblems(b, all))
    }
    expect(check('<!-- not run: needs a daemon -->\n```js\nx()\n```\n').join()).toMatch(/must run/)
    expect(check('```sh\nrm -rf /tmp/x\n```\n').join()).toMatch(/say why not/)
    expect(check('<!-- not run: the suite itself -->\n```sh\nnpm test\n```\n')).toEqual([])
    expect(check('```json\n{ "a": 1, }\n```\n').join()).toMatch(/does not parse/)
    expect(check('```json\n{ "a": 1 }\n```\n')).toEqual([])
    expect(check('<!-- output -->\n```text\nx\n```\n').join()).toMatch(/must follow a runnable block/)
    expect(check('```\nplain\n```\n').join()).toMatch(/no language/)
  })
})
