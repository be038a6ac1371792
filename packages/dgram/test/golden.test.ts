// The recorded node:dgram observations must replay as the values Node saw, including those
// JSON cannot hold (a send() returning undefined was once replayed as null).
import { describe, expect, it } from 'vitest'
import { decode, encode } from './golden'

describe('golden observation encoding', () => {
  it('round-trips undefined, NaN, infinities, -0 and bigint wherever they sit', () => {
    const value = {
      top: undefined,
      list: [['returned', undefined], NaN, Infinity, -Infinity, -0, 0, 10n, null, 'text'],
      nested: { a: { b: undefined, c: [undefined] } },
    }
    const back = decode(encode(value)) as typeof value
    expect(back).toStrictEqual(value)
    expect('top' in back).toBe(true)
    expect(Object.is(back.list[4], -0)).toBe(true)
    expect(Object.is(back.list[5], 0)).toBe(true)
    expect(back.list[0]).toStrictEqual(['returned', undefined])
  })

  it('keeps plain JSON values as they are', () => {
    const value = { a: [1, 'b', true, null, { c: 'd' }] }
    expect(decode(encode(value))).toStrictEqual(value)
  })
})
