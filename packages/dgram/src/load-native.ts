// Finds and loads the native binary, around the loader that `napi build` generates
// (native/binding.cjs, never edited by hand). What this module adds:
//   - DGRAMX_NATIVE_PATH: load exactly this `.node` file and nothing else;
//   - on Linux, glibc or musl decided by the running process (its ELF interpreter), not by the
//     filesystem: the generated loader reads /usr/bin/ldd, so a musl Node on a glibc system
//     (or the reverse) would load the other libc's binary. There this module requires the
//     local build and the platform package itself, the same two candidates in the same order;
//   - a version check: the binary must report the facade's own version (it bakes the crate
//     version, which CI keeps equal to the package version: scripts/versions.mjs);
//   - one coded error when nothing fits, naming the detected platform, each thing tried with
//     its cause, and what to do about it. Never a bare "Cannot find module".
//
// Everything that touches the process (env, platform, require) comes in through `LoadDeps`,
// so test/loader.test.ts can drive every branch.

import { closeSync, openSync, readFileSync, readSync } from 'node:fs'
import path from 'node:path'

export const PACKAGE_NAME = '@dgramx/dgram'
export const OVERRIDE_ENV = 'DGRAMX_NATIVE_PATH'
/** The generated loader's own override (honoured by binding.cjs itself). */
export const NAPI_OVERRIDE_ENV = 'NAPI_RS_NATIVE_LIBRARY_PATH'
export const INSTALL_DOC = 'https://github.com/dgramx/dgramx/blob/main/docs/install.md'

/** The platforms a prebuilt package is published for (napi's platformArchABI names). */
export const SUPPORTED_TUPLES = [
  'linux-x64-gnu',
  'linux-arm64-gnu',
  'linux-x64-musl',
  'linux-arm64-musl',
  'linux-arm-gnueabihf',
  'darwin-x64',
  'darwin-arm64',
  'win32-x64-msvc',
  'win32-arm64-msvc',
  'freebsd-x64',
] as const

export interface NativeBindingShape {
  NativeSocket: unknown
  nativeVersion(): string
}

export type Libc = 'glibc' | 'musl'

export interface Host {
  platform: string
  arch: string
  /** Linux only; undefined elsewhere or when it could not be told. */
  libc?: Libc
  /** glibc's runtime version, when known. */
  libcVersion?: string
}

export interface Attempt {
  /** What was tried: a file, a package, an environment override. */
  what: string
  /** Why it did not work. */
  cause: string
}

export interface LoadDeps {
  env: Record<string, string | undefined>
  facadeVersion: string
  /** The facade's package directory (for naming the local-build candidate). */
  packageDir: string
  /** Platform, arch and (Linux) libc of the running process, cheaply: no libcVersion. */
  target(): Host
  /** Detects platform, arch, libc and its version; called only when needed (it may be slow). */
  host(): Host
  /** Requires native/binding.cjs, the napi-generated loader. */
  requireGenerated(): NativeBindingShape
  /** Requires one `.node` file by absolute path. */
  requireFile(file: string): NativeBindingShape
  /** Requires a platform package by name (resolved from the facade). */
  requirePackage(name: string): NativeBindingShape
  /** Whether a file exists (to point out the other libc's binary when ours is missing). */
  fileExists(file: string): boolean
  /** The version of an installed package, or undefined when it is not installed. */
  installedVersion(name: string): string | undefined
}

export class NativeLoadError extends Error {
  readonly code: 'ERR_DGRAMX_NATIVE_NOT_FOUND' | 'ERR_DGRAMX_NATIVE_VERSION_MISMATCH'
  readonly host: Host
  readonly attempts: Attempt[]
  constructor(code: NativeLoadError['code'], message: string, host: Host, attempts: Attempt[], cause?: unknown) {
    super(message)
    this.code = code
    this.host = host
    this.attempts = attempts
    if (cause !== undefined) Object.defineProperty(this, 'cause', { value: cause, configurable: true, writable: true })
  }
  override get name(): string {
    return `Error [${this.code}]`
  }
}

/** napi's platformArchABI for a host, when a package is published for it. */
export function supportedTuple(host: Host): string | undefined {
  const t = hostTuple(host)
  return t !== undefined && (SUPPORTED_TUPLES as readonly string[]).includes(t) ? t : undefined
}

/** napi's platformArchABI for a host, whether or not we publish it. */
export function hostTuple(host: Host): string | undefined {
  const { platform, arch } = host
  if (platform === 'linux') {
    const musl = host.libc === 'musl'
    if (arch === 'arm') return musl ? 'linux-arm-musleabihf' : 'linux-arm-gnueabihf'
    return `linux-${arch}-${musl ? 'musl' : 'gnu'}`
  }
  if (platform === 'win32') return `win32-${arch}-msvc`
  if (platform === 'darwin' || platform === 'freebsd') return `${platform}-${arch}`
  return undefined
}

export function describeHost(host: Host): string {
  const os = { linux: 'Linux', darwin: 'macOS', win32: 'Windows', freebsd: 'FreeBSD' }[host.platform] ?? host.platform
  let s = `${os} ${host.arch} (process.platform=${host.platform}, process.arch=${host.arch}`
  if (host.platform === 'linux') {
    s += host.libc === undefined ? ', libc unknown' : `, ${host.libc}${host.libcVersion ? ` ${host.libcVersion}` : ''}`
  }
  return `${s})`
}

/** The libc an ELF interpreter path belongs to (`/lib/ld-musl-x86_64.so.1`, `/lib64/ld-linux-x86-64.so.2`). */
export function libcOfInterpreter(interp: string): Libc | undefined {
  const base = path.posix.basename(interp)
  if (base.startsWith('ld-musl-')) return 'musl'
  if (base.startsWith('ld-linux') || base.startsWith('ld64.so') || base === 'ld.so.1') return 'glibc'
  return undefined
}

/** Reads `length` bytes at `offset` of a file; fewer at its end. */
export type ReadAt = (offset: number, length: number) => Buffer

/**
 * The PT_INTERP path of a little-endian ELF executable, read through `readAt` (only the header,
 * the program headers and the path: never the whole file). Undefined for a static executable,
 * a big-endian one, or anything that is not ELF.
 */
export function elfInterpreter(readAt: ReadAt): string | undefined {
  const ident = readAt(0, 64)
  if (ident.length < 52 || ident.readUInt32BE(0) !== 0x7f454c46 || ident[5] !== 1) return undefined
  const is64 = ident[4] === 2
  if (is64 && ident.length < 64) return undefined
  const phoff = is64 ? Number(ident.readBigUInt64LE(0x20)) : ident.readUInt32LE(0x1c)
  const phentsize = ident.readUInt16LE(is64 ? 0x36 : 0x2a)
  const phnum = ident.readUInt16LE(is64 ? 0x38 : 0x2c)
  if (phentsize < (is64 ? 56 : 32) || phnum === 0 || phnum > 256) return undefined
  const table = readAt(phoff, phentsize * phnum)
  for (let i = 0; i < phnum && (i + 1) * phentsize <= table.length; i++) {
    const ph = i * phentsize
    if (table.readUInt32LE(ph) !== 3 /* PT_INTERP */) continue
    const offset = is64 ? Number(table.readBigUInt64LE(ph + 8)) : table.readUInt32LE(ph + 4)
    const size = is64 ? Number(table.readBigUInt64LE(ph + 32)) : table.readUInt32LE(ph + 16)
    if (size === 0 || size > 4096) return undefined
    const bytes = readAt(offset, size)
    const nul = bytes.indexOf(0)
    return bytes.subarray(0, nul === -1 ? bytes.length : nul).toString('latin1')
  }
  return undefined
}

function readAtFile(file: string): ReadAt & { close(): void } {
  const fd = openSync(file, 'r')
  const readAt = ((offset: number, length: number) => {
    const buf = Buffer.alloc(length)
    return buf.subarray(0, readSync(fd, buf, 0, length, offset))
  }) as ReadAt & { close(): void }
  readAt.close = () => closeSync(fd)
  return readAt
}

/** The running executable's ELF interpreter: the dynamic loader, hence the libc, this process runs on. */
export function processInterpreter(execPath: string = process.execPath): string | undefined {
  try {
    const readAt = readAtFile(execPath)
    try {
      return elfInterpreter(readAt)
    } finally {
      readAt.close()
    }
  } catch {
    return undefined
  }
}

function libcFromReport(): { libc: Libc; version?: string } | undefined {
  try {
    const report = process.report?.getReport() as { header?: { glibcVersionRuntime?: string }; sharedObjects?: string[] } | undefined
    const glibc = report?.header?.glibcVersionRuntime
    if (glibc) return { libc: 'glibc', version: glibc }
    if (report?.sharedObjects?.some((f) => f.includes('libc.musl-') || f.includes('ld-musl-'))) return { libc: 'musl' }
  } catch {
    // not available in this runtime
  }
  return undefined
}

function libcFromFilesystem(): Libc | undefined {
  try {
    const ldd = readFileSync('/usr/bin/ldd', 'utf8')
    if (ldd.includes('musl')) return 'musl'
    if (ldd.includes('GNU C Library') || ldd.includes('glibc')) return 'glibc'
  } catch {
    // unknown
  }
  return undefined
}

/**
 * The running process's platform, arch and libc, without process.report (about 20 ms): on Linux
 * the libc is the one whose loader the executable names as its ELF interpreter. Only a static
 * or unreadable executable falls back to process.report, then to /usr/bin/ldd.
 */
export function detectTarget(): Host {
  const host: Host = { platform: process.platform, arch: process.arch }
  if (process.platform !== 'linux') return host
  const interp = processInterpreter()
  const libc = (interp === undefined ? undefined : libcOfInterpreter(interp)) ?? libcFromReport()?.libc ?? libcFromFilesystem()
  return libc === undefined ? host : { ...host, libc }
}

/** Detects the running host for messages: as detectTarget, plus glibc's runtime version. */
export function detectHost(): Host {
  const host = detectTarget()
  if (host.platform !== 'linux' || host.libc === 'musl') return host
  const report = libcFromReport()
  return report?.libc === 'glibc' ? { ...host, libc: 'glibc', libcVersion: report.version } : host
}

/** The first line of an error's message, with the require stack cut off. */
function firstLine(e: unknown): string {
  const msg = e instanceof Error ? e.message : String(e)
  return msg.split('\n')[0]!.trim()
}

function describeCause(e: unknown, moduleId: string): string {
  const line = firstLine(e)
  if (line.startsWith(`Cannot find module '${moduleId}'`)) return 'not installed / not present'
  return line
}

/** The generated loader's own load errors, oldest first (it chains them newest-outermost). */
function generatedCauses(err: unknown): unknown[] {
  const out: unknown[] = []
  let e = (err as { cause?: unknown } | null)?.cause
  while (e) {
    out.unshift(e)
    e = (e as { cause?: unknown }).cause
  }
  return out
}

/** What binding.cjs tries, in its order, for this host (local build file, then package). */
function generatedCandidates(deps: LoadDeps, host: Host): { what: string; id: string }[] {
  const out: { what: string; id: string }[] = []
  const napiOverride = deps.env[NAPI_OVERRIDE_ENV]
  const tuples: string[] = []
  if (napiOverride) {
    out.push({ what: `${NAPI_OVERRIDE_ENV}=${napiOverride}`, id: napiOverride })
  } else {
    if (host.platform === 'darwin') tuples.push('darwin-universal')
    const t = hostTuple(host)
    if (t) tuples.push(t)
  }
  for (const tuple of tuples) {
    const local = `./dgram.${tuple}.node`
    out.push({ what: `the local build ${path.join(deps.packageDir, 'native', `dgram.${tuple}.node`)}`, id: local })
    out.push({ what: `the package ${PACKAGE_NAME}-${tuple}`, id: `${PACKAGE_NAME}-${tuple}` })
  }
  // After the native candidates, the generated loader looks for a WebAssembly build, which
  // dgramx does not ship (there are no sockets in WASI).
  out.push({ what: 'a WASI build ./dgram.wasi.cjs (napi fallback; dgramx ships none)', id: './dgram.wasi.cjs' })
  out.push({ what: `the package ${PACKAGE_NAME}-wasm32-wasi (napi fallback; dgramx ships none)`, id: `${PACKAGE_NAME}-wasm32-wasi` })
  return out
}

function attemptsFromGenerated(deps: LoadDeps, host: Host, err: unknown): Attempt[] {
  const causes = generatedCauses(err)
  const candidates = generatedCandidates(deps, host)
  if (causes.length === 0) return [{ what: 'native/binding.cjs (the generated loader)', cause: firstLine(err) }]
  if (causes.length > candidates.length) {
    return causes.map((c, i) => ({ what: `native/binding.cjs, attempt ${i + 1}`, cause: firstLine(c) }))
  }
  return causes.map((c, i) => ({ what: candidates[i]!.what, cause: describeCause(c, candidates[i]!.id) }))
}

function remedies(deps: LoadDeps, host: Host): string[] {
  const v = deps.facadeVersion
  const tuple = supportedTuple(host)
  const lines: string[] = []
  if (tuple === undefined) {
    lines.push(
      `No prebuilt binary is published for this platform (published: ${SUPPORTED_TUPLES.join(', ')}).`,
      `Build one from source (cargo and \`napi build\`, see the repository) and set ${OVERRIDE_ENV} to the .node file.`,
    )
    if (host.platform === 'linux' && host.libc === undefined) {
      lines.push(`glibc or musl could not be detected; if this is one of the Linux platforms above, set ${OVERRIDE_ENV}.`)
    }
    return lines
  }
  const pkg = `${PACKAGE_NAME}-${tuple}`
  lines.push(
    `The binary for this platform is the package ${pkg}@${v}, an optional dependency of ${PACKAGE_NAME}. To get it:`,
    `  - Install without omitting optional dependencies: no --omit=optional, --no-optional, or optional=false in .npmrc.`,
    `  - If the lockfile was made on another OS, CPU or libc (npm bug https://github.com/npm/cli/issues/4828), delete package-lock.json and node_modules and install again; with pnpm or yarn, list every platform you deploy to under supportedArchitectures.`,
    `  - Or depend on the platform package pinned to exactly this version: npm install --save-exact ${pkg}@${v}`,
    `  - Or set ${OVERRIDE_ENV} to the path of a dgram.${tuple}.node file.`,
  )
  return lines
}

function notFound(deps: LoadDeps, host: Host, attempts: Attempt[], cause: unknown, notes: string[] = []): NativeLoadError {
  const lines = [
    `${PACKAGE_NAME}@${deps.facadeVersion} could not load its native binary on ${describeHost(host)}.`,
    'Tried:',
    ...attempts.map((a, i) => `  ${i + 1}. ${a.what}: ${a.cause}`),
    ...notes,
    ...remedies(deps, host),
    `See ${INSTALL_DOC}`,
  ]
  return new NativeLoadError('ERR_DGRAMX_NATIVE_NOT_FOUND', lines.join('\n'), host, attempts, cause)
}

/** Checks that the loaded binary reports the facade's version. */
export function checkVersion(deps: LoadDeps, binding: NativeBindingShape, describeSource: () => string): void {
  let binaryVersion: string
  try {
    binaryVersion = typeof binding.nativeVersion === 'function' ? String(binding.nativeVersion()) : '(none reported)'
  } catch (e) {
    binaryVersion = `(nativeVersion() threw: ${firstLine(e)})`
  }
  if (binaryVersion === deps.facadeVersion) return
  // Only now, on the failure path, is the host detected (process.report is not free).
  const source = describeSource()
  const host = deps.host()
  const tuple = supportedTuple(host)
  const pkg = tuple ? `${PACKAGE_NAME}-${tuple}` : undefined
  const lines = [
    `${PACKAGE_NAME}@${deps.facadeVersion} loaded a native binary of version ${binaryVersion} (${source}) on ${describeHost(host)}; the two must be the same version.`,
  ]
  if (pkg) {
    const installed = deps.installedVersion(pkg)
    if (installed !== undefined) lines.push(`Installed: ${pkg}@${installed}.`)
    lines.push(
      `Pin the platform package to exactly the facade's version: npm install --save-exact ${pkg}@${deps.facadeVersion}`,
      `(or remove a hand-pinned ${pkg} and reinstall, so the facade's optional dependency brings the matching one).`,
    )
  }
  lines.push(`If ${OVERRIDE_ENV} or ${NAPI_OVERRIDE_ENV} is set, point it at a binary built for ${deps.facadeVersion}.`, `See ${INSTALL_DOC}`)
  const attempt = { what: source, cause: `version ${binaryVersion}, expected ${deps.facadeVersion}` }
  throw new NativeLoadError('ERR_DGRAMX_NATIVE_VERSION_MISMATCH', lines.join('\n'), host, [attempt])
}

/** Loads the binary (override; on Linux the process's own libc; else the generated loader), checks its version, or throws one coded error. */
export function loadNative(deps: LoadDeps): NativeBindingShape {
  const override = deps.env[OVERRIDE_ENV]
  if (override) {
    const file = path.resolve(override)
    let binding: NativeBindingShape
    try {
      binding = deps.requireFile(file)
    } catch (e) {
      const host = deps.host()
      throw notFound(deps, host, [{ what: `${OVERRIDE_ENV}=${override}`, cause: describeCause(e, file) }], e)
    }
    checkVersion(deps, binding, () => `from ${OVERRIDE_ENV}=${override}`)
    return binding
  }
  // The generated loader honours its own override; without one it would pick glibc or musl by
  // the filesystem, so on Linux the candidates are tried here.
  if (!deps.env[NAPI_OVERRIDE_ENV]) {
    const target = deps.target()
    if (target.platform === 'linux') return loadLinux(deps, target)
  }
  let binding: NativeBindingShape
  try {
    binding = deps.requireGenerated()
  } catch (e) {
    const host = deps.host()
    throw notFound(deps, host, attemptsFromGenerated(deps, host, e), e)
  }
  checkVersion(deps, binding, () => loadedFrom(deps))
  return binding
}

/** The local build and the platform package for a tuple, in the generated loader's order. */
function linuxCandidates(deps: LoadDeps, tuple: string): { what: string; id: string; load(): NativeBindingShape }[] {
  const file = path.join(deps.packageDir, 'native', `dgram.${tuple}.node`)
  const pkg = `${PACKAGE_NAME}-${tuple}`
  return [
    { what: `the local build ${file}`, id: file, load: () => deps.requireFile(file) },
    { what: `the package ${pkg}`, id: pkg, load: () => deps.requirePackage(pkg) },
  ]
}

function loadLinux(deps: LoadDeps, target: Host): NativeBindingShape {
  const tuple = hostTuple(target)!
  const attempts: Attempt[] = []
  const errors: unknown[] = []
  for (const candidate of linuxCandidates(deps, tuple)) {
    let binding: NativeBindingShape
    try {
      binding = candidate.load()
    } catch (e) {
      attempts.push({ what: candidate.what, cause: describeCause(e, candidate.id) })
      errors.push(e)
      continue
    }
    checkVersion(deps, binding, () => {
      const installed = candidate.id.startsWith(PACKAGE_NAME) ? deps.installedVersion(candidate.id) : undefined
      return `${candidate.what}${installed === undefined ? '' : `@${installed}`}`
    })
    return binding
  }
  // A binary that is there but broken says more than "not installed".
  const cause = errors.find((e) => !firstLine(e).startsWith('Cannot find module')) ?? errors[errors.length - 1]
  throw notFound(deps, deps.host(), attempts, cause, otherLibcNotes(deps, target))
}

/** The other libc's binary, when present, is the likely mix-up (node_modules from another system). */
function otherLibcNotes(deps: LoadDeps, target: Host): string[] {
  if (target.libc === undefined) return []
  const other: Libc = target.libc === 'musl' ? 'glibc' : 'musl'
  const otherTuple = hostTuple({ ...target, libc: other })!
  const why = `it is the ${other} build, and this process runs on ${target.libc} (its executable's ELF interpreter is ${target.libc === 'musl' ? "musl's" : "glibc's"} loader)`
  const notes: string[] = []
  const file = path.join(deps.packageDir, 'native', `dgram.${otherTuple}.node`)
  if (deps.fileExists(file)) notes.push(`Not tried: ${file}: ${why}.`)
  const pkg = `${PACKAGE_NAME}-${otherTuple}`
  const installed = deps.installedVersion(pkg)
  if (installed !== undefined) {
    notes.push(`Not tried: ${pkg}@${installed} is installed, but ${why}. Was node_modules installed on another system? Install again on this one.`)
  }
  return notes
}

function loadedFrom(deps: LoadDeps): string {
  const napiOverride = deps.env[NAPI_OVERRIDE_ENV]
  if (napiOverride) return `from ${NAPI_OVERRIDE_ENV}=${napiOverride}`
  const tuple = hostTuple(deps.host())
  if (!tuple) return 'through native/binding.cjs'
  const installed = deps.installedVersion(`${PACKAGE_NAME}-${tuple}`)
  return installed === undefined
    ? `through native/binding.cjs for ${tuple}`
    : `through native/binding.cjs for ${tuple}; ${PACKAGE_NAME}-${tuple}@${installed} is installed`
}
