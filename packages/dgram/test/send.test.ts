import { describe, expect, it } from 'vitest'
import type { Socket as NodeSocket, RemoteInfo } from 'node:dgram'
import { both, once, outcome, sameAsNode, tick, type Ctx } from './harness'

type Family = 'udp4' | 'udp6'
const loopback = (type: Family): string => (type === 'udp4' ? '127.0.0.1' : '::1')

/** Keeps sockets on loopback: the wildcard an implicit bind asks for becomes loopback. */
function loopbackLookup(host: string, family: number, cb: (e: Error | null, a?: string, f?: number) => void): void {
  if (host === '0.0.0.0') return process.nextTick(cb, null, '127.0.0.1', 4)
  if (host === '::') return process.nextTick(cb, null, '::1', 6)
  require('node:dns').lookup(host, family, cb)
}

/** A receiver bound on loopback whose port is aliased as PORT, recording what arrives. */
function sink(ctx: Ctx, type: Family, onReady: (port: number) => void): NodeSocket {
  const s = ctx.track(ctx.dgram.createSocket(type))
  s.on('message', (msg: Buffer, rinfo: RemoteInfo) => {
    ctx.rec('message', msg, { address: rinfo.address, family: rinfo.family, size: rinfo.size, port: typeof rinfo.port })
  })
  s.bind(0, loopback(type), () => {
    ctx.alias(s.address().port, 'PORT')
    onReady(s.address().port)
  })
  return s
}

/** A sender already bound on loopback (so validation cases never bind the wildcard). */
function boundSender(ctx: Ctx, type: Family, ready: (s: NodeSocket) => void): void {
  const s = ctx.track(ctx.dgram.createSocket(type))
  s.bind(0, loopback(type), () => {
    ctx.alias(s.address().port, 'SENDER')
    ready(s)
  })
}

describe('send argument validation (differential)', () => {
  const P = -1 // replaced by the sink's port
  const cases: [string, unknown[]][] = [
    ['no message', []],
    ['a number message', [123, P]],
    ['an object message', [{}, P]],
    ['null message', [null, P]],
    ['an array with a number', [['a', 1], P]],
    ['an array with an object', [[{}], P]],
    ['no port', ['x']],
    ['port 0', ['x', 0]],
    ['port -1', ['x', -1]],
    ['port 65536', ['x', 65536]],
    ['port 1.5', ['x', 1.5]],
    ['port NaN', ['x', NaN]],
    ['port ""', ['x', '']],
    ['port "  "', ['x', '  ']],
    ['port "abc"', ['x', 'abc']],
    ['port with a long string', ['x', 'abcdefghijklmnopqrstuvwxyz0123456789']],
    ['port with a quote', ['x', "it's"]],
    ['port null', ['x', null]],
    ['port {}', ['x', {}]],
    ['port true', ['x', true]],
    ['port 10n', ['x', 10n]],
    ['port Symbol', ['x', Symbol('s')]],
    ['port as a function', ['x', () => {}]],
    ['port as a named function', ['x', function named() {}]],
    ['port -0', ['x', -0]],
    ['port Infinity', ['x', Infinity]],
    ['address a number', ['x', P, 123]],
    ['address an object', ['x', P, {}]],
    ['address a Symbol', ['x', P, Symbol('a')]],
    ['offset past the end', ['xyz', 4, 1, P, '127.0.0.1']],
    ['length past the end', ['xyz', 1, 3, P, '127.0.0.1']],
    ['offset form with an array', [['x'], 0, 1, P, '127.0.0.1']],
    ['offset form with a number message', [5, 0, 1, P, '127.0.0.1']],
    ['offset form with a bad port', ['x', 0, 1, 'nope', '127.0.0.1']],
    ['offset form with a bad address', ['x', 0, 1, P, 5]],
    ['a stray fourth argument turns on the offset form', ['x', P, '127.0.0.1', 'x']],
    ['offset form, port 0', [Buffer.from('ab'), 0, 2, 0, '127.0.0.1']],
    ['TypedArray with bad bounds', [new Uint16Array(2), 0, 5, P, '127.0.0.1']],
  ]

  it.each(cases)('%s', async (_name, args) => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        boundSender(ctx, 'udp4', (s) => {
          const real = args.map((a) => (a === P ? port : a))
          ctx.rec(outcome(() => (s.send as (...a: unknown[]) => unknown)(...real)))
          ctx.done()
        })
      })
    })
  })

  it('validation comes before the closed check; a valid call on a closed socket throws NOT_RUNNING', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.close()
      ctx.rec(outcome(() => s.send('x', 0)))
      ctx.rec(outcome(() => s.send('x', 1234, '127.0.0.1')))
      ctx.rec(outcome(() => s.send(5 as never, 1234)))
      ctx.done()
    })
  })
})

describe('send forms deliver the same bytes (differential)', () => {
  const forms: [string, Family, (s: NodeSocket, port: number, cb: (...a: unknown[]) => void) => unknown][] = [
    ['send(string, port, address, cb)', 'udp4', (s, p, cb) => s.send('hello', p, '127.0.0.1', cb)],
    ['send(buffer, port, cb) uses the default address', 'udp4', (s, p, cb) => s.send(Buffer.from('dflt'), p, cb)],
    ['send(buffer, port, cb) on udp6 uses ::1', 'udp6', (s, p, cb) => s.send(Buffer.from('dflt6'), p, cb)],
    ['send(buffer, port) without callback', 'udp4', (s, p, cb) => {
      s.send(Buffer.from('nocb'), p)
      setTimeout(cb, 50)
    }],
    ['send(buffer, port, null, cb)', 'udp4', (s, p, cb) => s.send(Buffer.from('n'), p, null as never, cb)],
    ['send(buffer, port, "", cb)', 'udp4', (s, p, cb) => s.send(Buffer.from('e'), p, '', cb)],
    ['send(buffer, offset, length, port, address, cb)', 'udp4', (s, p, cb) => s.send(Buffer.from('abcdef'), 1, 3, p, '127.0.0.1', cb)],
    ['send(buffer, offset, length, port, cb)', 'udp6', (s, p, cb) => s.send(Buffer.from('abcdef'), 2, 2, p, cb)],
    ['send(string, offset, length, port, address, cb) counts UTF-8 bytes', 'udp4', (s, p, cb) => s.send('héllo', 1, 3, p, '127.0.0.1', cb)],
    ['send(Uint16Array, port, address, cb)', 'udp4', (s, p, cb) => s.send(new Uint16Array([0x0102, 0x0304]), p, '127.0.0.1', cb)],
    ['send(Float64Array slice, offset, length, ...)', 'udp4', (s, p, cb) => s.send(new Float64Array([1.5, 2.5]), 4, 8, p, '127.0.0.1', cb)],
    ['send(DataView, port, address, cb)', 'udp4', (s, p, cb) => s.send(new DataView(new TextEncoder().encode('dataview').buffer, 2, 4), p, '127.0.0.1', cb)],
    ['send([string, Buffer, Uint8Array], port, address, cb) is one datagram', 'udp4', (s, p, cb) => s.send(['ab', Buffer.from('cd'), new Uint8Array([0x65])], p, '127.0.0.1', cb)],
    ['send([], port, address, cb) is an empty datagram', 'udp4', (s, p, cb) => s.send([], p, '127.0.0.1', cb)],
    ['send("", port, address, cb) is an empty datagram', 'udp6', (s, p, cb) => s.send('', p, '::1', cb)],
    ['send(buffer, "port as string", address, cb)', 'udp4', (s, p, cb) => s.send('s', String(p) as never, '127.0.0.1', cb)],
    ['send(buffer, port, "localhost", cb) resolves the name', 'udp4', (s, p, cb) => s.send('dns', p, 'localhost', cb)],
    ['send(buffer, port, address, "not a function")', 'udp4', (s, p, cb) => {
      s.send('x', 0, 1, p, '127.0.0.1', 'nf' as never)
      setTimeout(cb, 50)
    }],
  ]

  it.each(forms)('%s', async (_name, type, call) => {
    const log = await sameAsNode((ctx) => {
      // Every form sends one datagram: the scenario ends once it is in (however late under
      // load), and 20 ms later, to catch anything more.
      let received = false
      let called = false
      const finish = (): void => {
        if (received && called) setTimeout(() => ctx.done(), 20)
      }
      const receiver = sink(ctx, type, (port) => {
        boundSender(ctx, type, (s) => {
          let phase = 'sync'
          const ret = call(s, port, (...args: unknown[]) => {
            ctx.rec('callback', phase, args)
            called = true
            finish()
          })
          ctx.rec('returned', ret)
          phase = 'async'
        })
      })
      receiver.once('message', () => {
        received = true
        finish()
      })
    })
    expect(log.length).toBeGreaterThanOrEqual(2)
  })

  it('the buffer may be reused as soon as the callback runs (and right after send returns)', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        boundSender(ctx, 'udp4', (s) => {
          const buf = Buffer.from('first')
          s.send(buf, port, '127.0.0.1', () => {
            buf.write('later')
            setTimeout(() => ctx.done(), 20)
          })
        })
      })
    })
  })
})

describe('send failures (differential)', () => {
  it('EMSGSIZE goes to the callback with address and port', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        boundSender(ctx, 'udp4', (s) => {
          s.send(Buffer.alloc(70000), port, '127.0.0.1', (err, n) => {
            ctx.rec('callback', err, n)
            ctx.done()
          })
        })
      })
    })
  })

  it('EMSGSIZE with the default address shows it as undefined', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        boundSender(ctx, 'udp4', (s) => {
          s.send(Buffer.alloc(70000), port, (err) => {
            ctx.rec('callback', err)
            ctx.done()
          })
        })
      })
    })
  })

  it('without a callback a send error is dropped, never emitted', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        boundSender(ctx, 'udp4', (s) => {
          s.on('error', (e) => ctx.rec('error event', e))
          s.send(Buffer.alloc(70000), port, '127.0.0.1')
          setTimeout(() => {
            ctx.rec('still quiet')
            ctx.done()
          }, 50)
        })
      })
    })
  })

  it('an IPv4 destination on a udp6 socket is send EINVAL', async () => {
    await sameAsNode((ctx) => {
      boundSender(ctx, 'udp6', (s) => {
        s.send('x', 9, '127.0.0.1', (err) => {
          ctx.rec('callback', err)
          ctx.done()
        })
      })
    })
  })

  it('a lookup failure goes to the callback, or to error when there is none', async () => {
    await sameAsNode((ctx) => {
      const failure = Object.assign(new Error('getaddrinfo ENOTFOUND x.invalid'), { code: 'ENOTFOUND' })
      const lookup = (host: string, family: number, cb: (e: Error | null, a?: string, f?: number) => void): void => {
        ctx.rec('lookup', host, family)
        if (host === 'x.invalid') process.nextTick(cb, failure)
        else process.nextTick(cb, null, '127.0.0.1', 4)
      }
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
      s.bind(0, () => {
        s.send('x', 9, 'x.invalid', (err) => {
          ctx.rec('callback', err === failure)
          s.on('error', (err2) => {
            ctx.rec('error event', err2 === failure)
            ctx.done()
          })
          s.send('x', 9, 'x.invalid')
        })
      })
    })
  })

  it('the lookup runs on every unconnected send with the socket family', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp6', (port) => {
        const lookup = (host: string, family: number, cb: (e: Error | null, a?: string, f?: number) => void): void => {
          ctx.rec('lookup', host, family)
          process.nextTick(cb, null, '::1', 6)
        }
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp6', lookup: lookup as never }))
        s.bind(0, () => {
          s.send('a', port, 'first.example', () => {
            s.send('b', port, () => {
              setTimeout(() => ctx.done(), 20)
            })
          })
        })
      })
    })
  })
})

describe('implicit bind and the pre-bind queue (differential)', () => {
  it('an unbound socket binds on first send, emits listening and receives the reply', async () => {
    await sameAsNode((ctx) => {
      const server = ctx.track(ctx.dgram.createSocket('udp4'))
      server.on('message', (msg, rinfo) => {
        ctx.rec('server got', msg)
        server.send(Buffer.from('reply'), rinfo.port, rinfo.address)
      })
      server.bind(0, '127.0.0.1', () => {
        const client = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: loopbackLookup as never }))
        client.on('listening', () => ctx.rec('client listening', client.address().address))
        client.on('message', (msg) => {
          ctx.rec('client got', msg)
          ctx.done()
        })
        ctx.rec(outcome(() => client.address()))
        client.send('ping', server.address().port, '127.0.0.1', (err, n) => ctx.rec('sent', err, n))
        ctx.rec('after send')
      })
    })
  })

  it('queued sends keep their order; listening listeners added before the first send run first', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: loopbackLookup as never }))
        s.on('listening', () => ctx.rec('early listening listener'))
        s.send('1', port, '127.0.0.1', () => ctx.rec('cb 1'))
        s.on('listening', () => ctx.rec('late listening listener'))
        s.send('2', port, '127.0.0.1', () => ctx.rec('cb 2'))
        s.send(['3', '3'], port, () => {
          ctx.rec('cb 3')
          setTimeout(() => ctx.done(), 30)
        })
      })
    })
  })

  it('send then close while binding: listening fires, the sends are dropped, close fires', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        const s = ctx.dgram.createSocket({ type: 'udp4', lookup: loopbackLookup as never })
        s.on('listening', () => ctx.rec('listening'))
        s.send('dropped', port, '127.0.0.1', () => ctx.rec('send callback'))
        ctx.rec('close returns this', s.close(() => ctx.rec('close callback')) === s)
        s.on('close', () => setTimeout(() => ctx.done(), 30))
      })
    })
  })

  it('a failed implicit bind discards the queue; the next send tries again', async () => {
    await sameAsNode((ctx) => {
      sink(ctx, 'udp4', (port) => {
        let fail = true
        const lookup = (host: string, family: number, cb: (e: Error | null, a?: string, f?: number) => void): void => {
          if (host === '0.0.0.0' && fail) {
            fail = false
            return process.nextTick(cb, Object.assign(new Error('no bind for you'), { code: 'EFAIL' }))
          }
          loopbackLookup(host, family, cb)
        }
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
        s.on('error', (e) => {
          ctx.rec('error', e.message)
          setImmediate(() => {
            s.send('second', port, '127.0.0.1', (err, n) => {
              ctx.rec('second callback', err, n)
              setTimeout(() => ctx.done(), 20)
            })
          })
        })
        s.send('first', port, '127.0.0.1', () => ctx.rec('first callback'))
      })
    })
  })
})

describe('send callbacks', () => {
  it.each(both)('%s: callback(null, bytes) runs asynchronously', async (_n, d) => {
    const r = d.createSocket('udp4')
    r.bind(0, '127.0.0.1')
    await once(r, 'listening')
    const s = d.createSocket('udp4')
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    let returned = false
    const result = await new Promise<unknown[]>((resolve) => {
      s.send('12345', r.address().port, '127.0.0.1', (...args: unknown[]) => resolve([returned, ...args]))
      returned = true
    })
    expect(result).toEqual([true, null, 5])
    await tick()
    s.close()
    r.close()
  })
})
