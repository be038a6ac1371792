// Loads the napi-rs binding: src/load-native.ts wraps the generated loader
// (native/binding.cjs) with an override variable, a version check and one clear error.
// The paths are relative to this file both in src/ (tests) and in dist/ (the published build).

import { existsSync } from 'node:fs'
import path from 'node:path'
import { detectHost, detectTarget, loadNative, type NativeBindingShape } from './load-native'
import type { NativeSocketConstructor } from './native-types'

interface Binding extends NativeBindingShape {
  NativeSocket: NativeSocketConstructor
  nativeVersion(): string
  setHostLacksLibuv?(lacks: boolean): void
  driverMode(): string
  unixSocketpair(): number[]
}

/* eslint-disable @typescript-eslint/no-require-imports */
const packageDir = path.resolve(__dirname, '..')
let host: ReturnType<typeof detectHost> | undefined

const binding = loadNative({
  env: process.env,
  facadeVersion: (require('../package.json') as { version: string }).version,
  packageDir,
  target: detectTarget,
  host: () => (host ??= detectHost()),
  requireGenerated: () => require('../native/binding.cjs') as Binding,
  requireFile: (file) => require(file) as Binding,
  requirePackage: (name) => require(name) as Binding,
  fileExists: existsSync,
  installedVersion: (name) => {
    try {
      return (require(`${name}/package.json`) as { version: string }).version
    } catch {
      return undefined
    }
  },
}) as Binding
/* eslint-enable @typescript-eslint/no-require-imports */

// Bun's libuv exports abort the process when called, and Deno has no libuv loop behind its
// Node-API: neither can be probed safely from native code, so the host's identity picks the
// reactor-thread driver there (DGRAMX_DRIVER still wins; see crates/dgramx-node/src/wake.rs).
binding.setHostLacksLibuv?.(hostLacksLibuv())

function hostLacksLibuv(): boolean {
  return (
    typeof (process.versions as Record<string, string | undefined>).bun === 'string' ||
    typeof (globalThis as { Deno?: unknown }).Deno === 'object'
  )
}

export const NativeSocket = binding.NativeSocket
export const nativeVersion = (): string => binding.nativeVersion()
/** How readiness reaches JavaScript in this process: `"uv-poll"` or `"thread"`. */
export const driverMode = (): string => binding.driverMode()
/** Tells the binding the host has no usable libuv (tests use it to stand in for Bun/Deno). */
export const setHostLacksLibuv = (lacks: boolean): void => binding.setHostLacksLibuv?.(lacks)
/** Two connected unix_dgram descriptors (close-on-exec), for socketpair() to adopt. */
export const unixSocketpair = (): number[] => binding.unixSocketpair()
