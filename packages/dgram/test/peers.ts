// Real peers for the unix_dgram tests: logger(1), socat, python3, systemd-notify. The global
// setup installs them when it can and the tests that need a missing one skip loudly
// (requirements.ts); requireTool is the last guard when a test runs anyway.
import { spawn, spawnSync, type ChildProcessWithoutNullStreams } from 'node:child_process'
import { withTimeout } from './harness'

const packages: Record<string, string> = {
  logger: 'bsdutils',
  socat: 'socat',
  python3: 'python3',
  'systemd-notify': 'systemd',
}

/** Fails (throws) with install instructions when `tool` is not on PATH. */
export function requireTool(tool: string): void {
  const found = spawnSync('sh', ['-c', `command -v ${tool}`], { encoding: 'utf8' })
  if (found.status !== 0) {
    throw new Error(
      `the real-peer test needs '${tool}', which is not installed: apt-get install -y --no-install-recommends ${packages[tool] ?? tool} (.ci/run does this)`,
    )
  }
}

export interface Peer {
  child: ChildProcessWithoutNullStreams
  /** Resolves with the first stdout line matching `test` (bounded wait). */
  line(test: RegExp | string, ms?: number): Promise<string>
  /** Resolves with the exit code (and output) once the process ends (bounded wait). */
  exit(ms?: number): Promise<{ code: number | null; stdout: string; stderr: string }>
  stdout(): string
  stderr(): string
  kill(): void
}

export function startPeer(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Peer {
  requireTool(command)
  const child = spawn(command, args, { env: options.env ?? process.env, stdio: ['pipe', 'pipe', 'pipe'] })
  let out = ''
  let err = ''
  const waiters: { test: RegExp | string; resolve: (l: string) => void }[] = []
  let scanned = 0
  const scan = (): void => {
    const lines = out.split('\n')
    // Only complete lines.
    for (; scanned < lines.length - 1; scanned++) {
      const l = lines[scanned]
      for (let i = waiters.length - 1; i >= 0; i--) {
        const w = waiters[i]
        if (typeof w.test === 'string' ? l === w.test : w.test.test(l)) {
          waiters.splice(i, 1)
          w.resolve(l)
        }
      }
    }
  }
  child.stdout.on('data', (d: Buffer) => {
    out += d.toString()
    scan()
  })
  child.stderr.on('data', (d: Buffer) => (err += d.toString()))
  const exited = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.on('close', (code) => resolve({ code, stdout: out, stderr: err }))
  })
  if (options.input !== undefined) child.stdin.end(options.input)
  return {
    child,
    line(test, ms = 10_000) {
      const found = out
        .split('\n')
        .slice(0, -1)
        .find((l) => (typeof test === 'string' ? l === test : test.test(l)))
      if (found !== undefined) return Promise.resolve(found)
      return withTimeout(
        new Promise<string>((resolve) => waiters.push({ test, resolve })),
        ms,
        `${command} to print ${String(test)} (stdout so far: ${JSON.stringify(out)}, stderr: ${JSON.stringify(err)})`,
      )
    },
    exit(ms = 10_000) {
      return withTimeout(exited, ms, `${command} to exit (stderr: ${JSON.stringify(err)})`)
    },
    stdout: () => out,
    stderr: () => err,
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL')
    },
  }
}

/** Runs a command to completion (bounded), failing clearly when the tool is missing. */
export async function run(command: string, args: string[], options: { env?: NodeJS.ProcessEnv; input?: string | Buffer } = {}): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const peer = startPeer(command, args, options)
  try {
    return await peer.exit(15_000)
  } finally {
    peer.kill()
  }
}
