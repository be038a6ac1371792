// For test files: whether the machine lacks a requirement (see requirements.ts; the global setup
// provisions what it can and provides what is still missing).
import { inject } from 'vitest'
import type { RequirementName } from './requirements'

declare module 'vitest' {
  export interface ProvidedContext {
    missingRequirements: RequirementName[]
  }
}

/** In a test file: true when the machine lacks any of `names` (the test is then skipped). */
export function lacks(...names: RequirementName[]): boolean {
  const missing = inject('missingRequirements') ?? []
  return names.some((name) => missing.includes(name))
}
