import { describe, expect, it } from 'vitest'
import type { Socket as NodeSocket } from 'node:dgram'
import { createSocket } from '../src/index'
import { runScript } from './child'
import { both, dgramx, isDeno, node, once, outcome, sameAsNode, type Ctx } from './harness'
import { versionGateDiffers } from './runtime'

// Node 24.21 cleans up bind's listeners through errorMonitor (src/socket.ts): listener counts
// and whether a bind error without an 'error' listener is thrown follow that version.
const BIND_CLEANUP_GATE: [number, number, number] = [24, 21, 0]
// Inside an async function, Deno's dns.lookup calls back before process.nextTick callbacks
// queued after it; the facade resolves names with the runtime's dns.lookup, as node:dgram does.
const DENO_LOOKUP_ORDER = "Deno's dns.lookup answers before a nextTick queued after it"

/** What address() tells, with the port reduced to what is stable between runs. */
function bound(s: NodeSocket): Record<string, unknown> {
  const a = s.address()
  return { address: a.address, family: a.family, port: a.port > 0 ? 'ephemeral' : a.port }
}

/** Observes when 'listening' (or 'error') fires relative to bind()'s return and the next tick. */
function timing(ctx: Ctx, s: NodeSocket, bindCall: () => unknown): void {
  s.on('listening', () => {
    ctx.rec('listening', bound(s))
    ctx.done()
  })
  s.on('error', (e) => {
    ctx.rec('error', e)
    ctx.done()
  })
  const ret = bindCall()
  ctx.rec('returned this', ret === s)
  process.nextTick(() => ctx.rec('next tick'))
}

describe('bind forms (differential)', () => {
  const forms: [string, 'udp4' | 'udp6', (s: NodeSocket) => unknown][] = [
    ['bind(0, "127.0.0.1")', 'udp4', (s) => s.bind(0, '127.0.0.1')],
    ['bind(0, "::1")', 'udp6', (s) => s.bind(0, '::1')],
    ['bind("0", "127.0.0.1")', 'udp4', (s) => s.bind('0' as never, '127.0.0.1')],
    ['bind({ port: 0, address: "127.0.0.1" })', 'udp4', (s) => s.bind({ port: 0, address: '127.0.0.1' })],
    ['bind({ address: "::1", exclusive: true })', 'udp6', (s) => s.bind({ address: '::1', exclusive: true })],
    ['bind(0, "localhost") resolves the name', 'udp4', (s) => s.bind(0, 'localhost')],
    ['bind(null, "127.0.0.1")', 'udp4', (s) => s.bind(null as never, '127.0.0.1')],
    ['bind("abc", "127.0.0.1") binds an ephemeral port', 'udp4', (s) => s.bind('abc' as never, '127.0.0.1')],
    ['bind(NaN, "127.0.0.1")', 'udp4', (s) => s.bind(NaN, '127.0.0.1')],
    ['bind(65536, "127.0.0.1") wraps to 0', 'udp4', (s) => s.bind(65536, '127.0.0.1')],
  ]
  it.for(forms)('%s', async ([_name, type, call], { skip }) => {
    skip(isDeno && _name.includes('localhost'), DENO_LOOKUP_ORDER)
    const log = await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket(type))
      timing(ctx, s, () => call(s))
    })
    expect(log[0]).toEqual(['returned this', true])
    // IP literals resolve on nextTick, so 'listening' comes before a tick queued after bind();
    // a host name goes through getaddrinfo and comes later.
    if (!_name.includes('localhost')) expect((log[1] as unknown[])[0]).toBe('listening')
    else expect(log[1]).toBe('next tick')
  })

  it('port coercion: -1 binds 65535 and 65537 binds 1, or both fail the same way', async () => {
    for (const [port, expected] of [
      [-1, 65535],
      [65537, 1],
    ]) {
      const log = await sameAsNode((ctx) => {
        const s = ctx.track(ctx.dgram.createSocket('udp4'))
        s.on('error', (e) => {
          ctx.rec('error', (e as NodeJS.ErrnoException).code)
          ctx.done()
        })
        s.bind(port, '127.0.0.1', () => {
          ctx.rec('port', s.address().port)
          s.close(() => ctx.done())
        })
      })
      if ((log[0] as unknown[])[0] === 'port') expect(log[0]).toEqual(['port', expected])
    }
  })

  it('the default address is 0.0.0.0 / :: (seen by the lookup), port 0 by default', async () => {
    for (const type of ['udp4', 'udp6'] as const) {
      await sameAsNode((ctx) => {
        const lookup = (host: string, family: number, cb: (e: null, a: string, f: number) => void): void => {
          ctx.rec('lookup', host, family)
          // Stay on loopback: bind where the wildcard was asked for.
          cb(null, family === 4 ? '127.0.0.1' : '::1', family)
        }
        const s = ctx.track(ctx.dgram.createSocket({ type, lookup: lookup as never }))
        s.on('listening', () => {
          ctx.rec('listening', bound(s))
          ctx.done()
        })
        s.bind()
        ctx.rec('after bind()')
      })
    }
  })

  it.skipIf(versionGateDiffers(BIND_CLEANUP_GATE))('a trailing callback is a once-listener for listening, called with this = socket and no arguments', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      s.bind(0, '127.0.0.1', function (this: unknown, ...args: unknown[]) {
        ctx.rec('callback', this === s, args.length, s.listenerCount('listening'), s.listenerCount('error'))
        ctx.done()
      })
      ctx.rec('listeners while binding', s.listenerCount('listening'), s.listenerCount('error'))
    })
  })

  it('bind(port, callback) and bind(callback)', async () => {
    await sameAsNode((ctx) => {
      const lookup = (_h: string, f: number, cb: (e: null, a: string, f: number) => void): void => cb(null, '127.0.0.1', f)
      const a = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
      const b = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
      let n = 0
      const finish = (): void => {
        if (++n === 2) ctx.done()
      }
      a.bind(0, () => {
        ctx.rec('a', bound(a))
        finish()
      })
      b.bind(() => {
        ctx.rec('b', bound(b))
        finish()
      })
    })
  })

  it('a lookup that answers synchronously makes listening happen inside bind()', async () => {
    await sameAsNode((ctx) => {
      const lookup = (_h: string, f: number, cb: (e: null, a: string, f: number) => void): void => cb(null, '127.0.0.1', f)
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
      s.on('listening', () => ctx.rec('listening'))
      s.bind(0)
      ctx.rec('returned')
      ctx.done()
    })
  })
})

describe('bind errors (differential)', () => {
  it('ERR_SOCKET_ALREADY_BOUND while binding and once bound', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      s.bind(0, '127.0.0.1')
      ctx.rec(outcome(() => s.bind(0, '127.0.0.1')))
      s.on('listening', () => {
        ctx.rec(outcome(() => s.bind(0, '127.0.0.1')))
        ctx.done()
      })
    })
  })

  it.skipIf(versionGateDiffers(BIND_CLEANUP_GATE))('EADDRINUSE arrives as error with address and port; the socket can bind again afterwards', async () => {
    await sameAsNode((ctx) => {
      const holder = ctx.track(ctx.dgram.createSocket('udp4'))
      holder.bind(0, '127.0.0.1', () => {
        const port = holder.address().port
        ctx.alias(port, 'PORT')
        const s = ctx.track(ctx.dgram.createSocket('udp4'))
        s.on('error', (err) => {
          ctx.rec('error', err)
          ctx.rec('listening listeners left', s.listenerCount('listening'))
          s.bind(0, '127.0.0.1', () => {
            ctx.rec('rebound', bound(s))
            ctx.done()
          })
        })
        s.bind(port, '127.0.0.1', () => ctx.rec('bind callback must not run'))
      })
    })
  })

  it('EADDRINUSE keeps the raw port argument (a string) in the error', async () => {
    await sameAsNode((ctx) => {
      const holder = ctx.track(ctx.dgram.createSocket('udp6'))
      holder.bind(0, '::1', () => {
        const port = holder.address().port
        ctx.alias(port, 'PORT')
        const s = ctx.track(ctx.dgram.createSocket('udp6'))
        s.on('error', (err) => {
          ctx.rec('error', err, typeof (err as { port?: unknown }).port)
          ctx.done()
        })
        s.bind({ port: String(port) as never, address: '::1' })
      })
    })
  })

  it('ipv6Only on a udp4 socket fails the bind with EINVAL', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', ipv6Only: true }))
      s.on('error', (err) => {
        ctx.rec('error', err)
        ctx.done()
      })
      s.bind(0, '127.0.0.1')
    })
  })

  it('a lookup failure is emitted as is and leaves the socket unbound', async () => {
    await sameAsNode((ctx) => {
      const failure = Object.assign(new Error('getaddrinfo ENOTFOUND nowhere.invalid'), { code: 'ENOTFOUND' })
      const lookup = (_h: string, _f: number, cb: (e: Error) => void): void => process.nextTick(cb, failure)
      const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', lookup: lookup as never }))
      s.on('error', (err) => {
        ctx.rec('same object', err === failure)
        ctx.rec(outcome(() => s.address()))
        ctx.done()
      })
      s.bind(0, 'nowhere.invalid')
    })
  })

  // Deno's dns.lookup throws its own ERR_INVALID_ARG_TYPE, which has own `name` and
  // `toString` properties; we pass on what the runtime's lookup throws.
  it.skipIf(isDeno)('a non-string address throws synchronously from the lookup, as node:dgram', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.track(ctx.dgram.createSocket('udp4'))
      ctx.rec(outcome(() => s.bind(0, 123 as never)))
      ctx.done()
    })
  })

  it('after that throw the socket is unbound and usable (node:dgram stays binding for good: DIFFERENCES.md)', async () => {
    const theirs = node.createSocket('udp4')
    expect(outcome(() => theirs.bind(0, 123 as never)).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    expect(outcome(() => theirs.bind(0, '127.0.0.1')).threw).toMatchObject({ code: 'ERR_SOCKET_ALREADY_BOUND' })

    const ours = dgramx.createSocket('udp4')
    expect(outcome(() => ours.bind(0, 123 as never)).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    let callbacks = 0
    ours.bind(0, '127.0.0.1', () => callbacks++)
    await once(ours, 'listening')
    expect(ours.address().port).toBeGreaterThan(0)
    const closed = once(ours, 'close')
    ours.close()
    await closed
    expect(callbacks).toBe(1)
  })

  it.skipIf(versionGateDiffers(BIND_CLEANUP_GATE))('bind with a callback and no error listener: the error is swallowed or thrown as by the running node', async () => {
    const script = `
      const holder = dgram.createSocket('udp4');
      holder.bind(0, '127.0.0.1', () => {
        const s = dgram.createSocket('udp4');
        process.on('uncaughtException', (e) => { console.log('uncaught ' + e.code); process.exit(0); });
        s.bind(holder.address().port, '127.0.0.1', () => console.log('callback'));
        setTimeout(() => { console.log('quiet'); process.exit(0); }, 200);
      });`
    const [theirs, mine] = await Promise.all([runScript(script, 'node'), runScript(script, 'dgramx')])
    expect(theirs.stdout.trim()).toMatch(/^(quiet|uncaught EADDRINUSE)$/)
    expect(mine.stdout).toBe(theirs.stdout)
  })
})

describe('bind and close', () => {
  it('close() while binding: no listening, no callback, close still fires (differential)', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.on('listening', () => ctx.rec('listening'))
      s.bind(0, '127.0.0.1', () => ctx.rec('callback'))
      s.close(() => {
        ctx.rec('close')
        setImmediate(() => ctx.done())
      })
    })
  })

  it('bind after close throws ERR_SOCKET_DGRAM_NOT_RUNNING (differential)', async () => {
    await sameAsNode((ctx) => {
      const s = ctx.dgram.createSocket('udp4')
      s.close()
      ctx.rec(outcome(() => s.bind(0)))
      ctx.done()
    })
  })

  it('a Symbol port is rejected at the call (node:dgram throws later, uncaught)', () => {
    const s = createSocket('udp4')
    expect(() => s.bind(Symbol('p') as never, '127.0.0.1')).toThrow(
      expect.objectContaining({ code: 'ERR_INVALID_ARG_TYPE', message: 'The "port" argument must be one of type number or string. Received type symbol (Symbol(p))' }),
    )
    // The socket is still usable.
    s.bind(0, '127.0.0.1')
    return once(s, 'listening').then(() => {
      expect(s.address().port).toBeGreaterThan(0)
      s.close()
    })
  })

  it.each(both)('%s: a bound socket receives on the bound port', async (_n, d) => {
    const s = d.createSocket('udp4')
    s.bind(0, '127.0.0.1')
    await once(s, 'listening')
    const c = d.createSocket('udp4')
    c.send('x', s.address().port, '127.0.0.1')
    const [msg] = await once(s, 'message')
    expect(String(msg)).toBe('x')
    c.close()
    s.close()
  })

  it('reuseAddr lets two sockets bind the same address and port', async () => {
    const a = createSocket({ type: 'udp4', reuseAddr: true })
    a.bind(0, '127.0.0.1')
    await once(a, 'listening')
    const b = createSocket({ type: 'udp4', reuseAddr: true })
    b.bind(a.address().port, '127.0.0.1')
    await once(b, 'listening')
    expect(b.address().port).toBe(a.address().port)
    a.close()
    b.close()
  })

  // Windows has no load-balancing SO_REUSEPORT: libuv refuses UV_UDP_REUSEPORT there and
  // node:dgram (22.12+, where it knows the option) reports `bind ENOTSUP`; so do we, on any Node.
  it.runIf(process.platform === 'win32')('reusePort is bind ENOTSUP on Windows, as node:dgram', async () => {
    const s = createSocket({ type: 'udp4', reusePort: true })
    s.bind(0, '127.0.0.1')
    const [err] = (await once(s, 'error')) as [NodeJS.ErrnoException]
    expect({ code: err.code, syscall: err.syscall }).toEqual({ code: 'ENOTSUP', syscall: 'bind' })
    s.close()
    const [major, minor] = process.versions.node.split('.').map(Number)
    if (major > 22 || (major === 22 && minor >= 12)) {
      // Where node:dgram knows the option, the whole error (errno, message) is the same.
      await sameAsNode((ctx) => {
        const t = ctx.track(ctx.dgram.createSocket({ type: 'udp4', reusePort: true } as Parameters<typeof ctx.dgram.createSocket>[0]))
        t.on('error', (e) => {
          ctx.rec('error', e)
          ctx.done()
        })
        t.bind(0, '127.0.0.1')
      })
    }
  })

  it.skipIf(process.platform === 'win32')('reusePort works on every Node version (node:dgram 20 ignores it)', async () => {
    const a = createSocket({ type: 'udp4', reusePort: true })
    a.bind(0, '127.0.0.1')
    await once(a, 'listening')
    const b = createSocket({ type: 'udp4', reusePort: true })
    b.bind(a.address().port, '127.0.0.1')
    await once(b, 'listening')
    expect(b.address().port).toBe(a.address().port)
    a.close()
    b.close()
  })
})
