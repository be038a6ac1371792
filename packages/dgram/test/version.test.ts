// The release table as probed on Node releases from npm (a change that reached 24.x and 26.x
// separately, never 25.x); the differential suites check the running release against node:dgram.
import { describe, expect, it } from 'vitest'
import { BIND_CLEANUP_ON_ERROR_MONITOR, nodeHas, STRING_ZERO_REFUSED, SYNC_API } from '../src/version'

describe('nodeHas', () => {
  it.each([
    ['20.20.2', false, false, false],
    ['24.18.1', false, false, false],
    ['24.19.0', true, true, false],
    ['24.21.0', true, true, true],
    ['25.9.0', false, false, false],
    ['26.3.0', false, false, false],
    ['26.4.0', true, false, false],
    ['26.5.0', true, true, false],
    ['26.7.0', true, true, false],
    ['26.8.0', true, true, true],
    ['27.0.0', true, true, true],
  ])('node %s: sync API %s, string "0" refused %s, bind cleanup on errorMonitor %s', (version, sync, zero, monitor) => {
    expect(nodeHas(SYNC_API, version)).toBe(sync)
    expect(nodeHas(STRING_ZERO_REFUSED, version)).toBe(zero)
    expect(nodeHas(BIND_CLEANUP_ON_ERROR_MONITOR, version)).toBe(monitor)
  })
})
