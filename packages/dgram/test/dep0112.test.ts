// node:dgram's deprecated private members (DEP0112), compared with node:dgram of the Node this
// suite runs on (.ci/run runs it on Node 20, 22 and 24): the same members, the same values at
// each stage of a socket's life, the same setters, the same DeprecationWarning once per process.
// Each run is a fresh process, since the warning is once per process.
import { describe, expect, it } from 'vitest'
import * as nodeDgram from 'node:dgram'
import { runScript } from './child'
import { foreignRuntime } from './harness'
import { createSocket, _createSocketHandle } from '../src/index'

const members = ['_handle', '_receiving', '_bindState', '_queue', '_reuseAddr', '_healthCheck', '_stopReceiving']

async function sameInBoth(script: string, args: string[] = []): Promise<unknown> {
  const [theirs, mine] = await Promise.all([runScript(script, 'node', { args }), runScript(script, 'dgramx', { args })])
  expect(theirs.stdout, theirs.stderr).not.toBe('')
  expect({ stdout: JSON.parse(mine.stdout), stderr: mine.stderr.replace(/\(node:\d+\)/g, '(node:PID)') }).toEqual({
    stdout: JSON.parse(theirs.stdout),
    stderr: theirs.stderr.replace(/\(node:\d+\)/g, '(node:PID)'),
  })
  return JSON.parse(theirs.stdout)
}

describe.skipIf(foreignRuntime)('DEP0112: the deprecated private members (differential, fresh processes)', () => {
  it('the same members on Socket.prototype, with the same descriptor shapes', () => {
    const shape = (proto: object): unknown =>
      members.map((name) => {
        const d = Object.getOwnPropertyDescriptor(proto, name)
        if (d === undefined) return [name, 'absent']
        return [name, 'get' in d ? 'accessor' : typeof d.value, d.enumerable, d.configurable, 'set' in d ? typeof d.set : d.writable]
      })
    const theirs = shape(nodeDgram.Socket.prototype)
    expect(shape(Object.getPrototypeOf(createSocket('udp4')))).toEqual(theirs)
    // On Node 20, 22 and 24 all of them exist; should a Node drop them, so do we.
    expect((theirs as unknown[][]).filter((m) => m[1] !== 'absent').length).toBe(7)
  })

  it('values through a socket\'s life: unbound, binding with a queued send, bound, stopped, closed', async () => {
    const out = await sameInBoth(`
      const log = []
      const s = dgram.createSocket({ type: 'udp4', reuseAddr: 1 })
      const t = dgram.createSocket('udp4')
      log.push(['no options', t._reuseAddr === undefined, t._bindState, t._receiving, t._queue === undefined])
      t.close()
      log.push(['unbound', s._bindState, s._receiving, s._queue === undefined, s._reuseAddr, typeof s._handle, s._handle === null])
      s.send('x', 9, '127.0.0.1')
      log.push(['after send', s._bindState, s._receiving, Array.isArray(s._queue) && s._queue.length, typeof s._queue[0]])
      s.on('listening', () => {
        log.push(['listening', s._bindState, s._receiving, s._queue === undefined])
        setImmediate(() => {
          s._stopReceiving()
          s._stopReceiving()
          log.push(['stopped', s._receiving, s._bindState])
          s._healthCheck()
          s.close(() => {
            log.push(['closed', s._bindState, s._receiving, s._handle])
            try { s._healthCheck(); log.push('no throw') } catch (e) { log.push(['healthCheck', e.name, e.code, e.message]) }
            try { s._stopReceiving(); log.push('stopReceiving after close returns') } catch (e) { log.push(['stopReceiving', e.code]) }
            console.log(JSON.stringify(log))
          })
        })
      })`)
    expect(out).toContainEqual(['after send', 1, false, 1, 'function'])
    expect(out).toContainEqual(['listening', 2, true, true])
  })

  it('one DeprecationWarning per process, code DEP0112, naming the first member used', async () => {
    const out = await sameInBoth(`
      const warnings = []
      process.on('warning', (w) => warnings.push([w.name, w.code, w.message]))
      const s = dgram.createSocket('udp4')
      s._bindState; s._handle; s._queue; s._receiving; s._reuseAddr; s._healthCheck()
      s.close()
      setImmediate(() => console.log(JSON.stringify(warnings)))`)
    expect(out).toEqual([['DeprecationWarning', 'DEP0112', 'Socket.prototype._bindState is deprecated']])
  })

  it('each method names itself when it is the first', async () => {
    for (const call of ['s._healthCheck()', 's._stopReceiving()', 's._queue = s._queue']) {
      await sameInBoth(`
        const warnings = []
        process.on('warning', (w) => warnings.push([w.name, w.code, w.message]))
        const s = dgram.createSocket('udp4')
        ${call}
        s.close()
        setImmediate(() => console.log(JSON.stringify(warnings)))`)
    }
  })

  it('--no-deprecation silences it, --throw-deprecation throws it', async () => {
    const script = `
      const s = dgram.createSocket('udp4')
      let r
      try { r = s._bindState } catch (e) { r = [e.name, e.code, e.message] }
      s.close()
      console.log(JSON.stringify(r))`
    await sameInBoth(script, ['--no-deprecation'])
    await sameInBoth(script, ['--throw-deprecation'])
  })

  it('setters write what node:dgram writes: _bindState, _reuseAddr (used by the next bind), _handle = null', async () => {
    await sameInBoth(`
      process.noDeprecation = true
      const log = []
      const a = dgram.createSocket('udp4')
      a.bind(0, '127.0.0.1', () => {
        const port = a.address().port
        const b = dgram.createSocket('udp4')
        b._reuseAddr = true
        log.push(['reuseAddr', b._reuseAddr])
        b.on('error', (e) => log.push(['b error', e.code]))
        // Without SO_REUSEADDR on both this would be EADDRINUSE; with it on one only, too.
        b.bind(port, '127.0.0.1', () => log.push('b bound'))
        setTimeout(() => {
          const c = dgram.createSocket('udp4')
          c._handle = null
          try { c.bind(0) } catch (e) { log.push(['bind after _handle = null', e.code]) }
          try { c.send('x', 9, '127.0.0.1') } catch (e) { log.push(['send after _handle = null', e.code]) }
          const d = dgram.createSocket('udp4')
          d._bindState = 2
          try { d.bind(0) } catch (e) { log.push(['bind with _bindState 2', e.code]) }
          a.close(); try { b.close() } catch {} ; d.close()
          console.log(JSON.stringify(log))
        }, 50)
      })`)
  })

  it('dgram._createSocketHandle is node:dgram\'s own (deprecated there)', () => {
    expect(_createSocketHandle).toBe((nodeDgram as unknown as { _createSocketHandle: unknown })._createSocketHandle)
  })
})
