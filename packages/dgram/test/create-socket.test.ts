import { EventEmitter } from 'node:events'
import { describe, expect, it } from 'vitest'
import { createSocket, Socket } from '../src/index'
import { runScript } from './child'
import { dgramx, errorShape, node, onNode, once, outcome, sameAsNode } from './harness'

// Every case is run through node:dgram and through us; the outcomes must be identical.
const badOptions: [string, unknown][] = [
  ['lookup is a number', { type: 'udp4', lookup: 1 }],
  ['lookup is a string (before the type check)', { type: 'bogus', lookup: 'x' }],
  ['signal is an object', { type: 'udp4', signal: {} }],
  ['signal is null', { type: 'udp4', signal: null }],
  ['signal is a number', { type: 'udp4', signal: 5 }],
]

// Bad buffer sizes, with what node:dgram throws for them since it validates them in
// createSocket (20.18.3 and 22.13.0: nodejs/node#56084). Before that it took them, and the
// later bind() threw ERR_SOCKET_BAD_BUFFER_SIZE uncaught from inside its own callback, with the
// descriptor left open. We refuse them in createSocket on every Node (DIFFERENCES.md).
const badBufferSizes: [string, unknown, string, string][] = [
  ['recvBufferSize is a string', { type: 'udp4', recvBufferSize: 'x' }, 'ERR_INVALID_ARG_TYPE', `The "options.recvBufferSize" property must be of type number. Received type string ('x')`],
  ['recvBufferSize is negative', { type: 'udp4', recvBufferSize: -1 }, 'ERR_OUT_OF_RANGE', 'The value of "options.recvBufferSize" is out of range. It must be >= 0 && <= 4294967295. Received -1'],
  ['recvBufferSize is fractional', { type: 'udp4', recvBufferSize: 1.5 }, 'ERR_OUT_OF_RANGE', 'The value of "options.recvBufferSize" is out of range. It must be an integer. Received 1.5'],
  ['recvBufferSize is huge', { type: 'udp4', recvBufferSize: 2 ** 40 }, 'ERR_OUT_OF_RANGE', 'The value of "options.recvBufferSize" is out of range. It must be >= 0 && <= 4294967295. Received 1_099_511_627_776'],
  ['sendBufferSize is a string', { type: 'udp6', sendBufferSize: '1024' }, 'ERR_INVALID_ARG_TYPE', `The "options.sendBufferSize" property must be of type number. Received type string ('1024')`],
  ['sendBufferSize is true', { type: 'udp6', sendBufferSize: true }, 'ERR_INVALID_ARG_TYPE', 'The "options.sendBufferSize" property must be of type number. Received type boolean (true)'],
  ['buffer size checked before the type', { type: 'nope', recvBufferSize: 'x' }, 'ERR_INVALID_ARG_TYPE', `The "options.recvBufferSize" property must be of type number. Received type string ('x')`],
]

/** Whether the running Node's node:dgram validates buffer sizes in createSocket. */
function nodeValidatesBufferSizes(): boolean {
  const [major, minor, patch] = process.versions.node.split('.').map(Number)
  if (major >= 23) return true
  if (major === 22) return minor >= 13
  if (major === 20) return minor > 18 || (minor === 18 && patch >= 3)
  return false
}

describe('createSocket argument validation (differential)', () => {
  it.each(badOptions)('%s', async (_name, options) => {
    const expected = await onNode((d) => outcome(() => d.createSocket(options as never)))
    const actual = outcome(() => dgramx.createSocket(options as never))
    expect(actual).toEqual(expected)
    expect(actual.threw).toBeDefined()
  })

  it.each(badBufferSizes)('%s', async (_name, options, code, message) => {
    const actual = outcome(() => dgramx.createSocket(options as never))
    // Recorded from the real Node release under Bun and Deno (whose own node:dgram is not it);
    // a socket older node:dgram made is closed at once, only whether it threw is kept.
    const theirs = await onNode((d) => {
      const seen = outcome(() => d.createSocket(options as never))
      ;(seen.returned as { close?: () => void } | undefined)?.close?.()
      return { threw: seen.threw }
    })
    if (nodeValidatesBufferSizes()) {
      expect(actual).toEqual(theirs)
      // The table is node's own answer: checked here, where node gives it.
      expect(theirs.threw).toMatchObject({ code, message })
    } else {
      // Older node:dgram takes the option (the socket it made is never bound, so no throw
      // follows) and only its type check can refuse the call.
      if ((options as { type: string }).type === 'nope') {
        expect(theirs.threw).toMatchObject({ code: 'ERR_SOCKET_BAD_TYPE' })
      } else {
        expect(theirs.threw).toBeUndefined()
      }
      expect(actual.threw).toMatchObject({
        code,
        message,
        class: code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError',
        name: code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError',
        string: `${code === 'ERR_OUT_OF_RANGE' ? 'RangeError' : 'TypeError'} [${code}]: ${message}`,
      })
    }
  })

  it('accepts falsy buffer sizes (0, NaN) like node', () => {
    for (const d of [node, dgramx]) {
      const s = d.createSocket({ type: 'udp4', recvBufferSize: 0, sendBufferSize: NaN })
      expect(s).toBeInstanceOf(EventEmitter)
      s.close()
    }
  })
})

describe('ERR_SOCKET_BAD_TYPE', () => {
  const badTypes: unknown[] = ['udp5', 'UDP4', '', undefined, null, 4, 'unix', 'unix_stream', {}, { type: null }, { type: {} }, { type: 'tcp' }]
  it.each(badTypes.map((t) => [JSON.stringify(t) ?? String(t), t]))('type %s', async (_label, type) => {
    const theirs = (await onNode((d) => outcome(() => d.createSocket(type as never)))).threw as Record<string, unknown>
    let ourError: unknown
    try {
      createSocket(type as never)
    } catch (e) {
      ourError = e
    }
    const mine = errorShape(ourError)
    // Same class, code and shape; our message also lists unix_dgram.
    expect(mine.class).toBe('TypeError')
    expect(mine.code).toBe('ERR_SOCKET_BAD_TYPE')
    expect(mine.message).toBe('Bad socket type specified. Valid types are: udp4, udp6, unix_dgram')
    expect(mine.string).toBe('TypeError [ERR_SOCKET_BAD_TYPE]: Bad socket type specified. Valid types are: udp4, udp6, unix_dgram')
    expect(String(theirs.message)).toBe('Bad socket type specified. Valid types are: udp4, udp6')
    expect({ ...mine, message: 0, string: 0 }).toEqual({ ...theirs, message: 0, string: 0 })
  })

  it('new Socket() validates like createSocket()', () => {
    expect(() => new Socket('tcp' as never)).toThrow(expect.objectContaining({ code: 'ERR_SOCKET_BAD_TYPE' }))
  })
})

describe('createSocket', () => {
  it.each(['udp4', 'udp6', 'unix_dgram'] as const)('creates a %s Socket (an EventEmitter with type set)', (type) => {
    const s = createSocket(type)
    expect(s).toBeInstanceOf(Socket)
    expect(s).toBeInstanceOf(EventEmitter)
    // Set like node:dgram's (which @types/node does not declare either).
    expect((s as unknown as { type: string }).type).toBe(type)
    s.close()
  })

  it('accepts the options form', () => {
    const s = createSocket({ type: 'udp6', reuseAddr: true, ipv6Only: true })
    expect((s as unknown as { type: string }).type).toBe('udp6')
    s.close()
  })

  it('adds a function second argument as a message listener, ignores anything else', () => {
    const listener = (): void => {}
    for (const d of [node, dgramx]) {
      const s = d.createSocket('udp4', listener)
      expect(s.listeners('message')).toEqual([listener])
      const t = d.createSocket('udp4', 'nope' as never)
      expect(t.listenerCount('message')).toBe(0)
      s.close()
      t.close()
    }
  })

  it('the callback receives messages', async () => {
    const got: string[] = []
    const server = createSocket('udp4', (msg) => got.push(msg.toString()))
    server.bind(0, '127.0.0.1')
    await once(server, 'listening')
    const client = createSocket('udp4')
    client.send('via callback', server.address().port, '127.0.0.1')
    await once(server, 'message')
    expect(got).toEqual(['via callback'])
    client.close()
    server.close()
  })
})

describe('options.signal', () => {
  it('an already aborted signal closes the socket at once (differential)', async () => {
    await sameAsNode(async (ctx) => {
      const ac = new AbortController()
      ac.abort()
      const s = ctx.dgram.createSocket({ type: 'udp4', signal: ac.signal })
      s.on('close', () => {
        ctx.rec('close')
        ctx.rec(outcome(() => s.bind(0)))
        ctx.done()
      })
      ctx.rec('created')
    })
  })

  it('aborting later closes an open socket, once (differential)', async () => {
    await sameAsNode(async (ctx) => {
      const ac = new AbortController()
      const s = ctx.dgram.createSocket({ type: 'udp4', signal: ac.signal })
      s.on('close', () => ctx.rec('close'))
      s.bind(0, '127.0.0.1', () => {
        ctx.rec('listening')
        ac.abort()
        ctx.rec('aborted')
        setImmediate(() => {
          ac.abort()
          ctx.done()
        })
      })
    })
  })

  it('aborting after close does nothing (differential)', async () => {
    await sameAsNode(async (ctx) => {
      const ac = new AbortController()
      const s = ctx.dgram.createSocket({ type: 'udp4', signal: ac.signal })
      s.close(() => {
        ctx.rec('closed')
        ac.abort()
        setImmediate(() => {
          ctx.rec('after abort')
          ctx.done()
        })
      })
    })
  })
})

describe('out of descriptors (differential)', () => {
  it("createSocket() succeeds and the failure is the bind's 'error' event; the socket works once descriptors are free", async () => {
    // Fills the descriptor table, then does what a server does; frees one and binds again.
    const script = `
      const fs = require('node:fs');
      const held = [];
      for (let i = 0; i < 100000; i++) { try { held.push(fs.openSync('/dev/null', 'r')) } catch (e) { if (e.code !== 'EMFILE') throw e; break } }
      const out = [];
      let s;
      try { s = dgram.createSocket('udp4'); out.push('created') } catch (e) { out.push('createSocket threw ' + e.code + ' ' + e.syscall) ; console.log(JSON.stringify(out)); process.exit(0) }
      s.once('error', (e) => {
        out.push(['error', e.code, e.syscall, e.message, e.address]);
        for (const fd of held.splice(0, 8)) fs.closeSync(fd);
        s.bind(0, '127.0.0.1', () => { out.push('listening'); s.close(() => { console.log(JSON.stringify(out)) }) });
      });
      s.bind(0, '127.0.0.1');`
    const node = await runScript(script, 'node')
    const ours = await runScript(script, 'dgramx')
    expect(node.stderr).toBe('')
    expect(ours.stderr).toBe('')
    expect(JSON.parse(ours.stdout)).toEqual(JSON.parse(node.stdout))
    expect(JSON.parse(ours.stdout)).toEqual(['created', ['error', 'EMFILE', 'bind', 'bind EMFILE 127.0.0.1', '127.0.0.1'], 'listening'])
  })
})
