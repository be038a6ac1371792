// IPv6 multicast interfaces are named as node:dgram (libuv) reads them: an IPv6 address whose
// %scope picks the interface. Anything else is EINVAL — never a silent join on the default
// interface. Joins here only ever use the loopback interface.

import { describe, expect, it } from 'vitest'
import { dgramx, type Dgram, onNode, once, outcome } from './harness'

const calls: [string, (s: import('node:dgram').Socket) => unknown][] = [
  ["setMulticastInterface('2')", (s) => s.setMulticastInterface('2')],
  ["setMulticastInterface('lo')", (s) => s.setMulticastInterface('lo')],
  ["setMulticastInterface('::%1')", (s) => s.setMulticastInterface('::%1')],
  ["setMulticastInterface('::%lo')", (s) => s.setMulticastInterface('::%lo')],
  ["addMembership(group, 'not-an-ip')", (s) => s.addMembership('ff02::1234', 'not-an-ip')],
  ["addMembership(group, '127.0.0.1')", (s) => s.addMembership('ff02::1234', '127.0.0.1')],
  ["addMembership(group, '::1%lo')", (s) => s.addMembership('ff02::1234', '::1%lo')],
  ["dropMembership(group, '::1%lo')", (s) => s.dropMembership('ff02::1234', '::1%lo')],
  ["dropMembership(group, '::1%lo') again", (s) => s.dropMembership('ff02::1234', '::1%lo')],
  ["addSourceSpecificMembership(src, group, 'junk')", (s) => s.addSourceSpecificMembership('::1', 'ff3e::1234', 'junk')],
]

describe('udp6 multicast interface arguments (differential)', () => {
  it('every call has the same outcome as node:dgram', async () => {
    const run = async (d: Dgram) => {
      const s = d.createSocket('udp6')
      s.bind(0, '::1')
      await once(s, 'listening')
      const seen = calls.map(([name, call]) => ({ name, ...outcome(() => call(s)) }))
      s.close()
      return seen
    }
    const results = [await onNode(run), await run(dgramx)]
    expect(results[1]).toEqual(results[0])
    expect(results[1][0]).toMatchObject({ threw: { code: 'EINVAL', syscall: 'setMulticastInterface' } })
    expect(results[1][4]).toMatchObject({ threw: { code: 'EINVAL', syscall: 'addMembership' } })
    expect(results[1][6]).toMatchObject({ returned: 'undefined' })
  })
})
