// The docs' code blocks as tests: extraction from Markdown, the rules a block must follow, and
// running one the way a reader would (a file of its own that imports '@dgramx/dgram' from the
// workspace build, run twice in a row, with a deadline).
//
// Rules, so that no block can quietly rot:
// - js / javascript / cjs / mjs / ts / typescript blocks run, verbatim. A `js` block is an ES
//   module when it has `import`/`export` statements or top-level `await`, else CommonJS. TS
//   blocks are type-checked with tsc (strict) against the built package's types, then
//   transpiled and run the same way (one mechanism for every Node version).
// - A ```text block right after a runnable one, introduced by `<!-- output -->`, is what that
//   block must print on stdout, exactly.
// - json blocks must parse.
// - Any other block (sh commands, yaml/Dockerfile configuration, benchmark output) says why it
//   does not run, in an HTML comment right above it: `<!-- not run: <reason> -->`. A runnable
//   block may not carry that marker: a code example that cannot run must not exist.
// - `<!-- platforms: linux -->` above a runnable block runs it only there (the feature it shows
//   exists only there); elsewhere the test reports it as skipped with that reason.

import { spawn } from 'node:child_process'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import vm from 'node:vm'
import ts from 'typescript'

export const repoRoot = path.resolve(__dirname, '..', '..', '..')

const RUNNABLE = new Set(['js', 'javascript', 'cjs', 'mjs', 'ts', 'typescript'])

export interface Block {
  file: string
  /** 1-based line of the opening fence. */
  line: number
  lang: string
  code: string
  /** `<!-- not run: reason -->` */
  notRun?: string
  /** `<!-- platforms: linux, darwin -->` */
  platforms?: string[]
  /** Whether `<!-- output -->` introduces this block. */
  isOutput: boolean
  /** For a runnable block: the output block that follows it. */
  output?: string
}

export function isRunnable(block: Block): boolean {
  return RUNNABLE.has(block.lang)
}

export function isTypeScript(block: Block): boolean {
  return block.lang === 'ts' || block.lang === 'typescript'
}

/** Every fenced block of a Markdown text, with the directives in the comments right above it. */
export function extractBlocks(markdown: string, file: string): Block[] {
  const lines = markdown.split('\n')
  const blocks: Block[] = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^(\s*)(`{3,}|~{3,})\s*([^\s`]*)/.exec(lines[i]!)
    if (!open) continue
    const [, indent, fence, lang] = open
    const body: string[] = []
    let j = i + 1
    for (; j < lines.length; j++) {
      const l = lines[j]!
      const close = /^\s*(`{3,}|~{3,})\s*$/.exec(l)
      if (close && close[1]!.charAt(0) === fence!.charAt(0) && close[1]!.length >= fence!.length) break
      body.push(l.startsWith(indent!) ? l.slice(indent!.length) : l.trimStart())
    }
    const block: Block = { file, line: i + 1, lang: (lang ?? '').toLowerCase(), code: body.join('\n') + '\n', isOutput: false }
    // Directives: the HTML comments directly above the fence (blank lines between not allowed).
    for (let k = i - 1; k >= 0; k--) {
      const c = /^\s*<!--\s*(.*?)\s*-->\s*$/.exec(lines[k]!)
      if (!c) break
      const d = c[1]!
      if (d === 'output') block.isOutput = true
      else if (d.startsWith('not run:')) block.notRun = d.slice('not run:'.length).trim()
      else if (d.startsWith('platforms:')) block.platforms = d.slice('platforms:'.length).split(',').map((p) => p.trim())
    }
    if (block.isOutput) {
      const previous = blocks[blocks.length - 1]
      if (previous && isRunnable(previous)) previous.output = block.code
    }
    blocks.push(block)
    i = j
  }
  return blocks
}

/** What is wrong with a block's directives (empty: nothing). Runs nothing. */
export function policyProblems(block: Block, all: readonly Block[]): string[] {
  const problems: string[] = []
  const where = `${block.file}:${block.line}`
  if (isRunnable(block)) {
    if (block.notRun !== undefined) problems.push(`${where}: a ${block.lang} block must run; make it complete and self-terminating, or turn it into prose ("not run: ${block.notRun}")`)
    return problems
  }
  if (block.isOutput) {
    const index = all.indexOf(block)
    const previous = all[index - 1]
    if (block.lang !== 'text') problems.push(`${where}: an output block is a \`\`\`text block`)
    if (!previous || !isRunnable(previous)) problems.push(`${where}: an output block must follow a runnable block`)
    return problems
  }
  if (block.lang === 'json') {
    try {
      JSON.parse(block.code)
    } catch (e) {
      problems.push(`${where}: json block does not parse: ${(e as Error).message}`)
    }
    return problems
  }
  if (!block.notRun) problems.push(`${where}: a \`\`\`${block.lang || '(no language)'} block must run, or say why not with <!-- not run: reason --> right above it`)
  return problems
}

/** Whether an ES module: import/export statements, or top-level await (not valid in CommonJS). */
function isModule(code: string): boolean {
  if (/^\s*(import|export)\s[^(]/m.test(code)) return true
  try {
    vm.compileFunction(code, ['require', 'module', 'exports', '__filename', '__dirname'])
    return false
  } catch (e) {
    return e instanceof SyntaxError && /await/.test(e.message)
  }
}

export interface Prepared {
  block: Block
  /** The file that runs. */
  entry: string
  /** For TS blocks: the source tsc checks. */
  tsSource?: string
}

/** Writes the block into `dir` (a directory under the repository root, so '@dgramx/dgram' resolves). */
export function prepare(block: Block, dir: string, name: string): Prepared {
  const module = block.lang === 'mjs' ? true : block.lang === 'cjs' ? false : isModule(block.code)
  if (!isTypeScript(block)) {
    const entry = path.join(dir, `${name}.${module ? 'mjs' : 'cjs'}`)
    fs.writeFileSync(entry, block.code)
    return { block, entry }
  }
  const tsSource = path.join(dir, `${name}.${module ? 'mts' : 'cts'}`)
  fs.writeFileSync(tsSource, block.code)
  const js = ts.transpileModule(block.code, {
    fileName: tsSource,
    compilerOptions: { target: ts.ScriptTarget.ES2022, module: module ? ts.ModuleKind.ESNext : ts.ModuleKind.CommonJS, esModuleInterop: true },
  }).outputText
  const entry = path.join(dir, `${name}.${module ? 'mjs' : 'cjs'}`)
  fs.writeFileSync(entry, js)
  return { block, entry, tsSource }
}

/** tsc, strict, over the TS blocks: one diagnostic string per error (empty: all clean). */
export function typeCheck(files: readonly string[]): Map<string, string[]> {
  const out = new Map<string, string[]>(files.map((f) => [f, []]))
  if (files.length === 0) return out
  const program = ts.createProgram(files, {
    strict: true,
    noEmit: true,
    target: ts.ScriptTarget.ES2022,
    lib: ['lib.es2022.d.ts', 'lib.esnext.disposable.d.ts'],
    module: ts.ModuleKind.NodeNext,
    moduleResolution: ts.ModuleResolutionKind.NodeNext,
    types: ['node'],
    typeRoots: [path.join(__dirname, '..', 'node_modules', '@types')],
    esModuleInterop: true,
    // The package's own declarations are checked by types.test.ts; here only the blocks are.
    skipLibCheck: true,
  })
  for (const d of ts.getPreEmitDiagnostics(program)) {
    const text = ts.flattenDiagnosticMessageText(d.messageText, '\n')
    const file = d.file?.fileName
    const at = d.file && d.start !== undefined ? d.file.getLineAndCharacterOfPosition(d.start) : undefined
    const message = `${file ? path.basename(file) : ''}${at ? `:${at.line + 1}:${at.character + 1}` : ''} TS${d.code}: ${text}`
    const key = files.find((f) => path.resolve(f) === path.resolve(file ?? ''))
    if (key) out.get(key)!.push(message)
    else for (const list of out.values()) list.push(message)
  }
  return out
}

export interface RunResult {
  code: number | null
  stdout: string
  stderr: string
  timedOut: boolean
}

export function runOnce(entry: string, tmpdir: string, timeoutMs: number): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const env: NodeJS.ProcessEnv = { ...process.env, TMPDIR: tmpdir }
    // A snippet runs as in a plain shell: no service manager listening, no test runner's hooks.
    delete env.NOTIFY_SOCKET
    delete env.NODE_OPTIONS
    for (const key of Object.keys(env)) if (key.startsWith('VITEST')) delete env[key]
    const child = spawn(process.execPath, [entry], { cwd: path.dirname(entry), env, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    let timedOut = false
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()))
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()))
    const timer = setTimeout(() => {
      timedOut = true
      child.kill('SIGKILL')
    }, timeoutMs)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr, timedOut })
    })
  })
}

/**
 * Runs a prepared block twice in a row with the same TMPDIR, as a reader running it again
 * would; returns what went wrong (empty: nothing). Also checks the block cleaned up after
 * itself: nothing left in its TMPDIR.
 */
export async function runTwice(prepared: Prepared, timeoutMs: number): Promise<string[]> {
  const { block } = prepared
  const where = `${block.file}:${block.line}`
  const tmpdir = fs.mkdtempSync(path.join(os.tmpdir(), 'snip-'))
  const problems: string[] = []
  try {
    for (const run of [1, 2]) {
      const r = await runOnce(prepared.entry, tmpdir, timeoutMs)
      const tag = `${where} (run ${run})`
      if (r.timedOut) problems.push(`${tag}: still running after ${timeoutMs} ms (a snippet must end by itself)`)
      else if (r.code !== 0) problems.push(`${tag}: exit code ${r.code}`)
      if (r.stderr !== '') problems.push(`${tag}: wrote to stderr:\n${r.stderr}`)
      if (block.output !== undefined && r.stdout !== block.output) {
        problems.push(`${tag}: printed\n${r.stdout}\ninstead of the documented output\n${block.output}`)
      }
      if (problems.length > 0) break
    }
    const left = fs.readdirSync(tmpdir)
    if (problems.length === 0 && left.length > 0) problems.push(`${where}: left files behind in its temp directory: ${left.join(', ')}`)
  } finally {
    fs.rmSync(tmpdir, { recursive: true, force: true })
  }
  return problems
}

/** A fresh directory under the repository root, where '@dgramx/dgram' resolves to the workspace. */
export function snippetDir(): string {
  return fs.mkdtempSync(path.join(repoRoot, '.snippets-'))
}
