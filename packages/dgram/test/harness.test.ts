import { describe, expect, it } from 'vitest'
import { errorShape, outcome, runScenario, sameAsNode, dgramx, node } from './harness'

// The differential suites are only as good as this comparison; prove it can fail.
describe('the differential harness', () => {
  it('fails when the two implementations observe different things', async () => {
    await expect(sameAsNode((ctx) => {
      ctx.rec(ctx.name)
      ctx.done()
    })).rejects.toThrow()
  })

  it('records events with ports replaced by their aliases', async () => {
    const log = await runScenario(node, 'node:dgram', (ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      s.bind(0, '127.0.0.1', () => {
        ctx.alias(s.address().port, 'PORT')
        ctx.rec('bound', s.address(), `127.0.0.1:${s.address().port}`)
        ctx.done()
      })
    })
    expect(log).toEqual([['bound', { address: '127.0.0.1', family: 'IPv4', port: 'PORT' }, '127.0.0.1:PORT']])
  })

  it('tells error classes, codes and messages apart', () => {
    const a = outcome(() => node.createSocket('udp4').send('x', 0))
    const b = outcome(() => dgramx.createSocket('udp4').send('x', 1, 2, 3, 'x' as never))
    expect(a).not.toEqual(b)
    expect(errorShape(new TypeError('m'))).not.toEqual(errorShape(new RangeError('m')))
  })
})
