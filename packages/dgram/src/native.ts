// Loads the napi-rs binding through its generated loader (native/binding.cjs). The path is
// relative to this file both in src/ (tests) and in dist/ (the published build).

import type { NativeSocketConstructor } from './native-types'

interface Binding {
  NativeSocket: NativeSocketConstructor
  nativeVersion(): string
}

// eslint-disable-next-line @typescript-eslint/no-require-imports
const binding = require('../native/binding.cjs') as Binding

export const NativeSocket = binding.NativeSocket
export const nativeVersion = (): string => binding.nativeVersion()
