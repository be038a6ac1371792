// Test hosts built from Linux network namespaces: veth links, addresses in 10.x / fd00::,
// Node scripts run inside a namespace. Needs root and iproute2; everything a lab creates is
// deleted by cleanup(), which the tests call in afterAll (also after a failure).
import { execFileSync, spawn, type ChildProcess } from 'node:child_process'
import { randomBytes } from 'node:crypto'
import { builtPackage, childExecutable } from './child'
import { foreignRuntime } from './harness'
import { timeScale } from './time-scale'

/** Fails loudly (never skips) when the machine cannot build namespaces. */
export function requireNetns(): void {
  if (process.platform !== 'linux') throw new Error('netns tests need Linux network namespaces')
  if (process.getuid?.() !== 0) throw new Error('netns tests need root (ip netns add); run the suite as root, as CI does')
  try {
    execFileSync('ip', ['-V'], { stdio: 'ignore' })
  } catch {
    throw new Error("netns tests need iproute2's `ip` on PATH")
  }
}

export function ip(...args: string[]): string {
  return execFileSync('ip', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })
}

export class Lab {
  readonly id = randomBytes(3).toString('hex')
  private readonly namespaces: string[] = []
  private readonly children = new Set<ChildProcess>()

  /** A new namespace with lo up; returns its name (dgx-<id>-<short>). */
  ns(short: string): string {
    const name = `dgx-${this.id}-${short}`
    ip('netns', 'add', name)
    this.namespaces.push(name)
    ip('-n', name, 'link', 'set', 'lo', 'up')
    return name
  }

  /** A veth pair between two namespaces, each end with an address (CIDR) and an optional MTU. */
  link(a: string, ifA: string, addrA: string, b: string, ifB: string, addrB: string, mtu?: number): void {
    ip('link', 'add', `${ifA}${this.id}`, 'type', 'veth', 'peer', 'name', `${ifB}${this.id}`)
    for (const [ns, ifname, addr] of [
      [a, ifA, addrA],
      [b, ifB, addrB],
    ]) {
      const tmp = `${ifname}${this.id}`
      ip('link', 'set', tmp, 'netns', ns)
      ip('-n', ns, 'link', 'set', tmp, 'name', ifname)
      if (mtu !== undefined) ip('-n', ns, 'link', 'set', ifname, 'mtu', String(mtu))
      ip('-n', ns, 'addr', 'add', addr, 'dev', ifname, ...(addr.includes(':') ? ['nodad'] : []))
      ip('-n', ns, 'link', 'set', ifname, 'up')
    }
  }

  ifindex(ns: string, ifname: string): number {
    return (JSON.parse(ip('-n', ns, '-j', 'link', 'show', ifname)) as { ifindex: number }[])[0].ifindex
  }

  exec(ns: string, ...cmd: string[]): string {
    return execFileSync('ip', ['netns', 'exec', ns, ...cmd], { encoding: 'utf8' })
  }

  /**
   * Runs a CommonJS script with `dgram` (our built package) in scope inside `ns`. `lines()`
   * yields each JSON line it prints; the process is killed by cleanup() if still running.
   */
  node(ns: string, source: string, options: { executable?: string; impls?: string[] } = {}): NodeScript {
    // `pick({ node, ours })` keeps the implementations this process is to run (all by default).
    const prelude = `const dgram = require(${JSON.stringify(builtPackage)});\nconst out = (v) => console.log(JSON.stringify(v));\n` +
      `const pick = (all) => { const only = ${JSON.stringify(options.impls ?? null)}; return only ? Object.fromEntries(Object.entries(all).filter(([k]) => only.includes(k))) : all };\n`
    const child = spawn('ip', ['netns', 'exec', ns, options.executable ?? process.execPath, '-e', prelude + source], { stdio: ['ignore', 'pipe', 'pipe'] })
    this.children.add(child)
    child.on('close', () => this.children.delete(child))
    return new NodeScript(child)
  }

  /**
   * Runs a script that compares `pick({ node: require('node:dgram'), ours: dgram })` and prints
   * one object keyed by implementation. Under Bun or Deno node:dgram is not theirs but real
   * Node's: then node's half runs under that Node, ours under the runtime, and the two merge.
   */
  async both<T extends Record<string, unknown>>(ns: string, source: string, ms?: number): Promise<T> {
    if (!foreignRuntime) return this.node(ns, source).next<T>(ms)
    const [theirs, ours] = await Promise.all([
      this.node(ns, source, { executable: childExecutable('node'), impls: ['node'] }).next<T>(ms),
      this.node(ns, source, { impls: ['ours'] }).next<T>(ms),
    ])
    return { ...theirs, ...ours }
  }

  cleanup(): void {
    for (const c of this.children) c.kill('SIGKILL')
    for (const ns of this.namespaces.splice(0)) {
      try {
        ip('netns', 'del', ns)
      } catch {}
    }
  }
}

export class NodeScript {
  private buffered = ''
  private readonly values: unknown[] = []
  private waiters: (() => void)[] = []
  stderr = ''
  exited = false

  constructor(readonly child: ChildProcess) {
    child.stdout!.on('data', (d: Buffer) => {
      this.buffered += d
      let nl
      while ((nl = this.buffered.indexOf('\n')) >= 0) {
        const line = this.buffered.slice(0, nl)
        this.buffered = this.buffered.slice(nl + 1)
        try {
          this.values.push(JSON.parse(line))
        } catch {
          this.values.push({ text: line })
        }
      }
      this.wake()
    })
    child.stderr!.on('data', (d: Buffer) => (this.stderr += d))
    child.on('close', () => {
      this.exited = true
      this.wake()
    })
  }

  private wake(): void {
    for (const w of this.waiters.splice(0)) w()
  }

  /** The next printed value (in order), failing after `ms` or if the script exits first. */
  async next<T = Record<string, unknown>>(ms = 10_000): Promise<T> {
    const deadline = Date.now() + ms * timeScale
    while (this.values.length === 0) {
      if (this.exited) throw new Error(`script exited without output; stderr:\n${this.stderr}`)
      const left = deadline - Date.now()
      if (left <= 0) throw new Error(`timed out after ${ms} ms waiting for script output; stderr:\n${this.stderr}`)
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left)
        this.waiters.push(() => {
          clearTimeout(t)
          resolve()
        })
      })
    }
    return this.values.shift() as T
  }
}
