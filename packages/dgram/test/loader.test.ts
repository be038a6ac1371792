// The native loader (src/load-native.ts): the override variable, the version check and the one
// coded error, driven through injected dependencies; then the real module in child processes.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import {
  describeHost,
  detectHost,
  detectTarget,
  elfInterpreter,
  hostTuple,
  libcOfInterpreter,
  processInterpreter,
  loadNative,
  NativeLoadError,
  supportedTuple,
  type Host,
  type LoadDeps,
  type NativeBindingShape,
} from '../src/load-native'
import { timeScale } from './time-scale'

const pkgDir = path.resolve(__dirname, '..')
const linuxGnu: Host = { platform: 'linux', arch: 'x64', libc: 'glibc', libcVersion: '2.36' }

function notFoundModule(id: string): Error {
  const e = new Error(`Cannot find module '${id}'\nRequire stack:\n- /x/native/binding.cjs`) as Error & { code: string }
  e.code = 'MODULE_NOT_FOUND'
  return e
}

/** The error binding.cjs throws: newest load error outermost, each one chained as `cause`. */
function generatedError(errors: Error[]): Error {
  const chain = errors.reduce<Error | null>((prev, cur) => {
    const e = new Error(cur.message)
    ;(e as { cause?: unknown }).cause = prev
    return e
  }, null)
  const err = new Error('Cannot find native binding. npm has a bug related to optional dependencies')
  ;(err as { cause?: unknown }).cause = chain
  return err
}

const binding = (version: string): NativeBindingShape => ({ NativeSocket: class {}, nativeVersion: () => version })

// By default: Linux glibc, no local build, the platform package installed. A test that sets
// `host` gets the same platform as `target` unless it sets `target` itself.
function deps(over: Partial<LoadDeps> = {}): LoadDeps {
  const host = over.host ?? (() => linuxGnu)
  return {
    env: {},
    facadeVersion: '1.2.3',
    packageDir: '/app/node_modules/@dgramx/dgram',
    target: () => {
      const { libcVersion: _, ...t } = host()
      return t
    },
    host,
    requireGenerated: () => {
      throw new Error('the generated loader should not run on Linux')
    },
    requireFile: (file) => {
      throw notFoundModule(file)
    },
    requirePackage: () => binding('1.2.3'),
    fileExists: () => false,
    installedVersion: () => undefined,
    ...over,
  }
}

const missingEverywhere: Partial<LoadDeps> = {
  requireFile: (file) => {
    throw notFoundModule(file)
  },
  requirePackage: (name) => {
    throw notFoundModule(name)
  },
}

function thrown(fn: () => unknown): NativeLoadError {
  try {
    fn()
  } catch (e) {
    expect(e).toBeInstanceOf(NativeLoadError)
    return e as NativeLoadError
  }
  throw new Error('did not throw')
}

describe('platform tuples', () => {
  it('maps hosts to napi platformArchABI names', () => {
    expect(hostTuple(linuxGnu)).toBe('linux-x64-gnu')
    expect(hostTuple({ platform: 'linux', arch: 'arm64', libc: 'musl' })).toBe('linux-arm64-musl')
    expect(hostTuple({ platform: 'linux', arch: 'arm', libc: 'glibc' })).toBe('linux-arm-gnueabihf')
    expect(hostTuple({ platform: 'win32', arch: 'arm64' })).toBe('win32-arm64-msvc')
    expect(hostTuple({ platform: 'darwin', arch: 'arm64' })).toBe('darwin-arm64')
    expect(hostTuple({ platform: 'freebsd', arch: 'x64' })).toBe('freebsd-x64')
    expect(supportedTuple({ platform: 'linux', arch: 'arm', libc: 'musl' })).toBeUndefined()
    expect(supportedTuple({ platform: 'aix', arch: 'ppc64' })).toBeUndefined()
    expect(supportedTuple({ platform: 'win32', arch: 'x64' })).toBe('win32-x64-msvc')
    expect(supportedTuple({ platform: 'win32', arch: 'ia32' })).toBeUndefined()
  })

  it('describes the host with its libc', () => {
    expect(describeHost(linuxGnu)).toBe('Linux x64 (process.platform=linux, process.arch=x64, glibc 2.36)')
    expect(describeHost({ platform: 'linux', arch: 'arm64', libc: 'musl' })).toContain('arm64')
    expect(describeHost({ platform: 'linux', arch: 'arm64', libc: 'musl' })).toContain(', musl)')
    expect(describeHost({ platform: 'win32', arch: 'x64' })).toBe('Windows x64 (process.platform=win32, process.arch=x64)')
  })
})

describe('glibc or musl: the running process decides', () => {
  /** A minimal little-endian ELF executable image: header, program headers, interpreter path. */
  function elfImage(bits: 32 | 64, interp: string | undefined): Buffer {
    const is64 = bits === 64
    const ehsize = is64 ? 64 : 52
    const phentsize = is64 ? 56 : 32
    const phnum = 2
    const path0 = Buffer.from(`${interp ?? ''}\0`, 'latin1')
    const img = Buffer.alloc(ehsize + phentsize * phnum + path0.length)
    img.writeUInt32BE(0x7f454c46, 0)
    img[4] = is64 ? 2 : 1
    img[5] = 1
    img[6] = 1
    const interpAt = ehsize + phentsize * phnum
    if (is64) {
      img.writeBigUInt64LE(BigInt(ehsize), 0x20)
      img.writeUInt16LE(phentsize, 0x36)
      img.writeUInt16LE(phnum, 0x38)
    } else {
      img.writeUInt32LE(ehsize, 0x1c)
      img.writeUInt16LE(phentsize, 0x2a)
      img.writeUInt16LE(phnum, 0x2c)
    }
    // First a PT_LOAD, then (for a dynamic executable) PT_INTERP.
    img.writeUInt32LE(1, ehsize)
    const ph = ehsize + phentsize
    img.writeUInt32LE(interp === undefined ? 4 /* PT_NOTE */ : 3 /* PT_INTERP */, ph)
    if (is64) {
      img.writeBigUInt64LE(BigInt(interpAt), ph + 8)
      img.writeBigUInt64LE(BigInt(path0.length), ph + 32)
    } else {
      img.writeUInt32LE(interpAt, ph + 4)
      img.writeUInt32LE(path0.length, ph + 16)
    }
    path0.copy(img, interpAt)
    return img
  }
  const reader = (img: Buffer) => (offset: number, length: number) => img.subarray(offset, offset + length)

  it('reads the ELF interpreter of 64- and 32-bit executables, and none of a static one', () => {
    expect(elfInterpreter(reader(elfImage(64, '/lib/ld-musl-x86_64.so.1')))).toBe('/lib/ld-musl-x86_64.so.1')
    expect(elfInterpreter(reader(elfImage(32, '/lib/ld-linux-armhf.so.3')))).toBe('/lib/ld-linux-armhf.so.3')
    expect(elfInterpreter(reader(elfImage(64, undefined)))).toBeUndefined()
    expect(elfInterpreter(reader(Buffer.from('#!/bin/sh\necho not an ELF file at all, just a script here\n')))).toBeUndefined()
    expect(elfInterpreter(reader(Buffer.alloc(0)))).toBeUndefined()
  })

  it("tells glibc's loaders from musl's", () => {
    expect(libcOfInterpreter('/lib/ld-musl-x86_64.so.1')).toBe('musl')
    expect(libcOfInterpreter('/lib/ld-musl-aarch64.so.1')).toBe('musl')
    expect(libcOfInterpreter('/lib64/ld-linux-x86-64.so.2')).toBe('glibc')
    expect(libcOfInterpreter('/lib/ld-linux-aarch64.so.1')).toBe('glibc')
    expect(libcOfInterpreter('/lib/ld-linux-armhf.so.3')).toBe('glibc')
    expect(libcOfInterpreter('/system/bin/linker64')).toBeUndefined()
  })

  it.runIf(process.platform === 'linux')('agrees with Node itself about this process (glibcVersionRuntime is glibc-only)', () => {
    const header = (process.report.getReport() as { header: { glibcVersionRuntime?: string } }).header
    const expected = header.glibcVersionRuntime ? 'glibc' : 'musl'
    const interp = processInterpreter()
    expect(interp).toBeDefined()
    expect(libcOfInterpreter(interp!)).toBe(expected)
    expect(detectTarget().libc).toBe(expected)
    expect(detectHost().libc).toBe(expected)
    if (expected === 'glibc') expect(detectHost().libcVersion).toBe(header.glibcVersionRuntime)
  })
})

describe('not found', () => {
  it('throws one coded error naming the platform, each attempt with its cause, and the fixes', () => {
    const err = thrown(() => loadNative(deps(missingEverywhere)))
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_NOT_FOUND')
    expect(err.message).toBe(
      [
        '@dgramx/dgram@1.2.3 could not load its native binary on Linux x64 (process.platform=linux, process.arch=x64, glibc 2.36).',
        'Tried:',
        '  1. the local build /app/node_modules/@dgramx/dgram/native/dgram.linux-x64-gnu.node: not installed / not present',
        '  2. the package @dgramx/dgram-linux-x64-gnu: not installed / not present',
        'The binary for this platform is the package @dgramx/dgram-linux-x64-gnu@1.2.3, an optional dependency of @dgramx/dgram. To get it:',
        '  - Install without omitting optional dependencies: no --omit=optional, --no-optional, or optional=false in .npmrc.',
        '  - If the lockfile was made on another OS, CPU or libc (npm bug https://github.com/npm/cli/issues/4828), delete package-lock.json and node_modules and install again; with pnpm or yarn, list every platform you deploy to under supportedArchitectures.',
        '  - Or depend on the platform package pinned to exactly this version: npm install --save-exact @dgramx/dgram-linux-x64-gnu@1.2.3',
        '  - Or set DGRAMX_NATIVE_PATH to the path of a dgram.linux-x64-gnu.node file.',
        'See https://github.com/dgramx/dgramx/blob/main/docs/install.md',
      ].join('\n'),
    )
    expect(err.attempts).toHaveLength(2)
    expect(err.host).toEqual(linuxGnu)
    expect(String(err)).toMatch(/^Error \[ERR_DGRAMX_NATIVE_NOT_FOUND\]: @dgramx\/dgram@1\.2\.3 could not load/)
    expect((err as { cause?: unknown }).cause).toBeInstanceOf(Error)
  })

  it('keeps a real load failure (a binary that is there but broken) as the cause', () => {
    const broken = new Error('/app/node_modules/@dgramx/dgram-linux-x64-gnu/dgram.linux-x64-gnu.node: invalid ELF header')
    const err = thrown(() =>
      loadNative(
        deps({
          requirePackage: () => {
            throw broken
          },
        }),
      ),
    )
    expect(err.message).toContain('  2. the package @dgramx/dgram-linux-x64-gnu: /app/node_modules/@dgramx/dgram-linux-x64-gnu/dgram.linux-x64-gnu.node: invalid ELF header')
    expect((err as { cause?: unknown }).cause).toBe(broken)
  })

  it('names musl and the musl package on Alpine', () => {
    const host: Host = { platform: 'linux', arch: 'arm64', libc: 'musl' }
    const err = thrown(() => loadNative(deps({ host: () => host, ...missingEverywhere })))
    expect(err.message).toContain('Linux arm64 (process.platform=linux, process.arch=arm64, musl)')
    expect(err.message).toContain('the package @dgramx/dgram-linux-arm64-musl:')
    expect(err.message).toContain('npm install --save-exact @dgramx/dgram-linux-arm64-musl@1.2.3')
  })

  it('a musl process on a glibc system tries only the musl binaries and names the glibc ones it left alone', () => {
    // The generated loader would read /usr/bin/ldd (glibc here) and load the gnu binary into musl.
    const host: Host = { platform: 'linux', arch: 'x64', libc: 'musl' }
    const tried: string[] = []
    const err = thrown(() =>
      loadNative(
        deps({
          host: () => host,
          requireFile: (f) => {
            tried.push(f)
            throw notFoundModule(f)
          },
          requirePackage: (name) => {
            tried.push(name)
            throw notFoundModule(name)
          },
          fileExists: (f) => f === '/app/node_modules/@dgramx/dgram/native/dgram.linux-x64-gnu.node',
          installedVersion: (name) => (name === '@dgramx/dgram-linux-x64-gnu' ? '1.2.3' : undefined),
        }),
      ),
    )
    expect(tried).toEqual(['/app/node_modules/@dgramx/dgram/native/dgram.linux-x64-musl.node', '@dgramx/dgram-linux-x64-musl'])
    expect(err.message).toContain('  1. the local build /app/node_modules/@dgramx/dgram/native/dgram.linux-x64-musl.node: not installed / not present\n')
    expect(err.message).toContain('  2. the package @dgramx/dgram-linux-x64-musl: not installed / not present\n')
    expect(err.message).toContain(
      "Not tried: /app/node_modules/@dgramx/dgram/native/dgram.linux-x64-gnu.node: it is the glibc build, and this process runs on musl (its executable's ELF interpreter is musl's loader).",
    )
    expect(err.message).toContain('Not tried: @dgramx/dgram-linux-x64-gnu@1.2.3 is installed, but it is the glibc build')
    expect(err.message).toContain('npm install --save-exact @dgramx/dgram-linux-x64-musl@1.2.3')
    expect(err.message).not.toContain('1. the local build /app/node_modules/@dgramx/dgram/native/dgram.linux-x64-gnu.node')
  })

  it('a glibc process loads the gnu binary even where musl binaries are also present', () => {
    const tried: string[] = []
    const b = loadNative(
      deps({
        requireFile: (f) => {
          tried.push(f)
          return binding('1.2.3')
        },
        requirePackage: () => {
          throw new Error('the package should not be needed: the local build loaded')
        },
      }),
    )
    expect(b.nativeVersion()).toBe('1.2.3')
    expect(tried).toEqual(['/app/node_modules/@dgramx/dgram/native/dgram.linux-x64-gnu.node'])
  })

  it('on macOS lists the universal candidates the generated loader tries first', () => {
    const host: Host = { platform: 'darwin', arch: 'arm64' }
    const err = thrown(() =>
      loadNative(
        deps({
          host: () => host,
          requireGenerated: () => {
            throw generatedError([
              notFoundModule('./dgram.darwin-universal.node'),
              notFoundModule('@dgramx/dgram-darwin-universal'),
              notFoundModule('./dgram.darwin-arm64.node'),
              notFoundModule('@dgramx/dgram-darwin-arm64'),
              notFoundModule('./dgram.wasi.cjs'),
              notFoundModule('@dgramx/dgram-wasm32-wasi'),
            ])
          },
        }),
      ),
    )
    expect(err.message).toContain('  2. the package @dgramx/dgram-darwin-universal: not installed / not present')
    expect(err.message).toContain('  4. the package @dgramx/dgram-darwin-arm64: not installed / not present')
    expect(err.message).toContain('npm install --save-exact @dgramx/dgram-darwin-arm64@1.2.3')
  })

  it('on a platform without a published binary says so and points at the override', () => {
    const host: Host = { platform: 'linux', arch: 'riscv64', libc: 'glibc' }
    const err = thrown(() =>
      loadNative(
        deps({
          host: () => host,
          ...missingEverywhere,
        }),
      ),
    )
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_NOT_FOUND')
    expect(err.message).toContain('No prebuilt binary is published for this platform (published: linux-x64-gnu, linux-arm64-gnu,')
    expect(err.message).toContain('set DGRAMX_NATIVE_PATH to the .node file')
    expect(err.message).not.toContain('--save-exact')
  })

  it('DGRAMX_NATIVE_PATH loads exactly that file, and only that file', () => {
    const seen: string[] = []
    const b = loadNative(
      deps({
        env: { DGRAMX_NATIVE_PATH: '/opt/dgram.node' },
        requireGenerated: () => {
          throw new Error('generated loader must not run')
        },
        requireFile: (f) => {
          seen.push(f)
          return binding('1.2.3')
        },
        requirePackage: () => {
          throw new Error('no package must be tried')
        },
      }),
    )
    expect(b.nativeVersion()).toBe('1.2.3')
    expect(seen).toEqual(['/opt/dgram.node'])
  })

  it('a DGRAMX_NATIVE_PATH that does not load is the one attempt reported', () => {
    const err = thrown(() =>
      loadNative(
        deps({
          env: { DGRAMX_NATIVE_PATH: '/nope/dgram.node' },
          requireFile: (f) => {
            throw notFoundModule(f)
          },
        }),
      ),
    )
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_NOT_FOUND')
    expect(err.message).toContain('Tried:\n  1. DGRAMX_NATIVE_PATH=/nope/dgram.node: not installed / not present\n')
    expect(err.attempts).toHaveLength(1)
  })

  it('NAPI_RS_NATIVE_LIBRARY_PATH (honoured by the generated loader) is named as the attempt', () => {
    const err = thrown(() =>
      loadNative(
        deps({
          env: { NAPI_RS_NATIVE_LIBRARY_PATH: '/x/y.node' },
          requireGenerated: () => {
            throw generatedError([notFoundModule('/x/y.node'), notFoundModule('./dgram.wasi.cjs'), notFoundModule('@dgramx/dgram-wasm32-wasi')])
          },
        }),
      ),
    )
    expect(err.message).toContain('  1. NAPI_RS_NATIVE_LIBRARY_PATH=/x/y.node: not installed / not present')
  })
})

describe('version check', () => {
  it('accepts a binary of the facade version, without detecting the host (no process.report on the happy path)', () => {
    const b = loadNative(
      deps({
        target: () => ({ platform: 'linux', arch: 'x64', libc: 'glibc' }),
        host: () => {
          throw new Error('host detection must not run when the binary loads and matches')
        },
      }),
    )
    expect(b.nativeVersion()).toBe('1.2.3')
  })

  it('rejects a binary of another version with its own code, naming both versions and the pin', () => {
    const err = thrown(() => loadNative(deps({ requirePackage: () => binding('1.2.0'), installedVersion: () => '1.2.0' })))
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_VERSION_MISMATCH')
    expect(err.message).toBe(
      [
        '@dgramx/dgram@1.2.3 loaded a native binary of version 1.2.0 (the package @dgramx/dgram-linux-x64-gnu@1.2.0) on Linux x64 (process.platform=linux, process.arch=x64, glibc 2.36); the two must be the same version.',
        'Installed: @dgramx/dgram-linux-x64-gnu@1.2.0.',
        "Pin the platform package to exactly the facade's version: npm install --save-exact @dgramx/dgram-linux-x64-gnu@1.2.3",
        "(or remove a hand-pinned @dgramx/dgram-linux-x64-gnu and reinstall, so the facade's optional dependency brings the matching one).",
        'If DGRAMX_NATIVE_PATH or NAPI_RS_NATIVE_LIBRARY_PATH is set, point it at a binary built for 1.2.3.',
        'See https://github.com/dgramx/dgramx/blob/main/docs/install.md',
      ].join('\n'),
    )
  })

  it('names the generated loader as the source where it loaded the binary (macOS)', () => {
    const host: Host = { platform: 'darwin', arch: 'arm64' }
    const err = thrown(() => loadNative(deps({ host: () => host, requireGenerated: () => binding('1.2.0'), installedVersion: () => '1.2.0' })))
    expect(err.message).toContain(
      'version 1.2.0 (through native/binding.cjs for darwin-arm64; @dgramx/dgram-darwin-arm64@1.2.0 is installed) on macOS arm64',
    )
  })

  it('checks the override binary too', () => {
    const err = thrown(() => loadNative(deps({ env: { DGRAMX_NATIVE_PATH: '/opt/old.node' }, requireFile: () => binding('0.9.0') })))
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_VERSION_MISMATCH')
    expect(err.message).toContain('loaded a native binary of version 0.9.0 (from DGRAMX_NATIVE_PATH=/opt/old.node)')
  })

  it('a module that reports no version is a mismatch, not a crash later', () => {
    const err = thrown(() => loadNative(deps({ requirePackage: () => ({ NativeSocket: null }) as unknown as NativeBindingShape })))
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_VERSION_MISMATCH')
    expect(err.message).toContain('native binary of version (none reported)')
  })
})

describe('the real module', () => {
  const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
  // This host's binary: native/ may hold other targets' too (the QEMU leg puts arm64 and armv7 side by side).
  const nodeFile = `dgram.${hostTuple(detectHost())}.node`
  const run = (env: Record<string, string>, code: string) =>
    execFileSync(process.execPath, ['-e', code], { cwd: pkgDir, encoding: 'utf8', env: { ...process.env, ...env }, timeout: 15_000 * timeScale })

  it('the built binary reports the facade version', () => {
    const out = run({}, `console.log(require('./dist/native.js').nativeVersion())`)
    expect(out.trim()).toBe(pkg.version)
  })

  it('DGRAMX_NATIVE_PATH to the built binary works; to a missing file gives the coded error', () => {
    const ok = run({ DGRAMX_NATIVE_PATH: path.join(pkgDir, 'native', nodeFile) }, `console.log(require('./dist/native.js').nativeVersion())`)
    expect(ok.trim()).toBe(pkg.version)
    const out = run(
      { DGRAMX_NATIVE_PATH: '/nonexistent/dgram.node' },
      `try { require('./dist/index.js'); console.log('loaded') } catch (e) { console.log(JSON.stringify({ code: e.code, message: e.message })) }`,
    )
    const err = JSON.parse(out)
    expect(err.code).toBe('ERR_DGRAMX_NATIVE_NOT_FOUND')
    expect(err.message).toContain('1. DGRAMX_NATIVE_PATH=/nonexistent/dgram.node: not installed / not present')
    expect(err.message).not.toMatch(/^Cannot find module/)
  })
})

describe('unix_dgram on Windows', () => {
  it('is refused with its own code, and only on win32', async () => {
    const { assertUnixDgramSupported } = await import('../src/platform')
    let err: (Error & { code?: string }) | undefined
    try {
      assertUnixDgramSupported('win32')
    } catch (e) {
      err = e as Error & { code?: string }
    }
    expect(err?.code).toBe('ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED')
    expect(err?.message).toBe("unix_dgram sockets are not available on Windows (it has no Unix datagram sockets); use 'udp4' or 'udp6' there")
    expect(() => assertUnixDgramSupported('linux')).not.toThrow()
    expect(() => assertUnixDgramSupported('darwin')).not.toThrow()
    expect(() => assertUnixDgramSupported('freebsd')).not.toThrow()
  })

  it('createSocket reads the platform at the call: as win32, unix_dgram throws and udp4 still works', async () => {
    const dgram = await import('../src/index')
    const real = Object.getOwnPropertyDescriptor(process, 'platform')!
    // A data property whatever the original is (Deno's is an accessor).
    Object.defineProperty(process, 'platform', { configurable: true, enumerable: real.enumerable, writable: true, value: 'win32' })
    try {
      expect(() => dgram.createSocket('unix_dgram' as 'udp4')).toThrow(expect.objectContaining({ code: 'ERR_DGRAMX_UNIX_DGRAM_UNSUPPORTED' }))
      const s = dgram.createSocket('udp4')
      await new Promise<void>((resolve) => s.bind(0, '127.0.0.1', () => resolve()))
      s.close()
    } finally {
      Object.defineProperty(process, 'platform', real)
    }
  })
})
