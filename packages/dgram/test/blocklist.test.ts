// createSocket({ receiveBlockList, sendBlockList }) with net.BlockList. node:dgram honours them
// from 22.13 on and silently ignores them before (Node 20); we honour them on every Node we
// support, like reusePort. Each scenario's trace is written out below as node:dgram 24 gives it:
// where the running node:dgram has the options, the test also runs it and compares (so the
// literal is checked against node on the Node 22/24 CI legs); on Node 20 ours alone is held to it.
import { BlockList } from 'node:net'
import { describe, expect, it } from 'vitest'
import { dgramx, runScenario, sameAsNode, type Ctx } from './harness'
import { nodeAtLeast, nodeHas, SYNC_API } from '../src/version'

const nodeHasBlockLists = typeof (BlockList as unknown as { isBlockList?: unknown }).isBlockList === 'function'

async function blockListScenario(expected: unknown[], scenario: (ctx: Ctx) => void | Promise<void>): Promise<void> {
  const trace = nodeHasBlockLists ? await sameAsNode(scenario) : await runScenario(dgramx, '@dgramx/dgram', scenario)
  expect(trace).toEqual(expected)
}

const blockedError = (ip: string) => ({
  class: 'Error',
  isTypeError: false,
  isRangeError: false,
  name: 'Error',
  message: `IP(${ip}) is blocked by net.BlockList`,
  string: `Error [ERR_IP_BLOCKED]: IP(${ip}) is blocked by net.BlockList`,
  keys: ['code'],
  code: 'ERR_IP_BLOCKED',
})

function blocking(...addresses: [string, 'ipv4' | 'ipv6'][]): BlockList {
  const list = new BlockList()
  for (const [address, family] of addresses) list.addAddress(address, family)
  return list
}

describe(`BlockList options (${nodeHasBlockLists ? 'differential' : 'node:dgram ignores them on this Node; asserted against node 24\'s trace'})`, () => {
  it('validation of the option types', async () => {
    const wrongType = (key: string) => ({
      class: 'TypeError',
      isTypeError: true,
      isRangeError: false,
      name: 'TypeError',
      message: `The "options.${key}" property must be an net.BlockList. Received an instance of Object`,
      string: `TypeError [ERR_INVALID_ARG_TYPE]: The "options.${key}" property must be an net.BlockList. Received an instance of Object`,
      keys: ['code'],
      code: 'ERR_INVALID_ARG_TYPE',
    })
    await blockListScenario(
      [['receiveBlockList', wrongType('receiveBlockList')], ['sendBlockList', wrongType('sendBlockList')], ['falsy values', 'accepted']],
      (ctx) => {
        for (const key of ['receiveBlockList', 'sendBlockList']) {
          try {
            ctx.track(ctx.dgram.createSocket({ type: 'udp4', [key]: {} } as never))
            ctx.rec(key, 'accepted')
          } catch (e) {
            ctx.rec(key, e)
          }
        }
        ctx.track(ctx.dgram.createSocket({ type: 'udp4', receiveBlockList: null, sendBlockList: 0 } as never))
        ctx.rec('falsy values', 'accepted')
        ctx.done()
      },
    )
  })

  it('a blocked destination fails the send callback and connect; a blocked sender is dropped', async () => {
    await blockListScenario(
      [
        ['send callback', blockedError('127.0.0.1')],
        ['send to an unblocked address', null],
        ['connect callback', blockedError('127.0.0.1')],
        ['received', 'Buffer<66726f6d20616e20756e626c6f636b6564206970>', '127.0.0.2'],
      ],
      (ctx) => {
        const blocked = blocking(['127.0.0.1', 'ipv4'])
        const receiver = ctx.track(ctx.dgram.createSocket({ type: 'udp4', receiveBlockList: blocked } as never))
        receiver.on('message', (msg, rinfo) => {
          ctx.rec('received', msg, rinfo.address)
          setTimeout(() => ctx.done(), 30)
        })
        receiver.bind(0, '0.0.0.0', () => {
          const port = receiver.address().port
          ctx.alias(port, 'PORT')
          const sender = ctx.track(ctx.dgram.createSocket({ type: 'udp4', sendBlockList: blocked } as never))
          sender.bind(0, '127.0.0.1', () => {
            sender.send('to a blocked ip', port, '127.0.0.1', (err) => {
              ctx.rec('send callback', err)
              // 127.0.0.2 reaches the receiver from 127.0.0.1 (its bound address): dropped.
              sender.send('from a blocked ip', port, '127.0.0.2', (err2) => {
                ctx.rec('send to an unblocked address', err2)
                sender.connect(port, '127.0.0.1', (err3?: unknown) => {
                  ctx.rec('connect callback', err3)
                  const plain = ctx.track(ctx.dgram.createSocket('udp4'))
                  plain.bind(0, '127.0.0.2', () => plain.send('from an unblocked ip', port, '127.0.0.1'))
                })
              })
            })
          })
        })
      },
    )
  })

  it("connect without a callback emits 'error'; a blocked send without a callback is dropped silently", async () => {
    await blockListScenario(
      [['error event', blockedError('127.0.0.1')], ['connected', false]],
      (ctx) => {
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', sendBlockList: blocking(['127.0.0.1', 'ipv4']) } as never))
        s.on('error', (err) => {
          ctx.rec('error event', err)
          let connected = true
          try {
            s.remoteAddress()
          } catch {
            connected = false
          }
          ctx.rec('connected', connected)
          setTimeout(() => ctx.done(), 30)
        })
        s.send('dropped', 9, '127.0.0.1')
        s.connect(9, '127.0.0.1')
      },
    )
  })

  it('udp6: the family given to check() is ipv6; a host name is checked as the address it resolves to', async () => {
    await blockListScenario(
      [['send ::1', blockedError('::1')], ['send localhost', blockedError('::1')], ['connect', blockedError('::1')]],
      (ctx) => {
        // A lookup of our own, so that the name's answer does not depend on /etc/hosts.
        const lookup = (_host: string, _family: number, cb: (err: null, ip: string, family: number) => void): void => cb(null, '::1', 6)
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp6', lookup, sendBlockList: blocking(['::1', 'ipv6']) } as never))
        s.send('x', 9, '::1', (err) => {
          ctx.rec('send ::1', err)
          s.send('x', 9, 'localhost', (err2) => {
            ctx.rec('send localhost', err2)
            s.connect(9, 'localhost', (err3?: unknown) => {
              ctx.rec('connect', err3)
              ctx.done()
            })
          })
        })
      },
    )
  })

  // connectSync exists only where SYNC_API says (not in 25.x or 26.0-26.3).
  it.runIf(nodeHas(SYNC_API) && nodeAtLeast(24, 21, 0))('connectSync throws ERR_IP_BLOCKED and stays disconnected', async () => {
    await blockListScenario(
      [['connectSync', blockedError('127.0.0.1')], ['then connect elsewhere', undefined]],
      (ctx) => {
        const s = ctx.track(ctx.dgram.createSocket({ type: 'udp4', sendBlockList: blocking(['127.0.0.1', 'ipv4']) } as never))
        try {
          ;(s as unknown as { connectSync(port: number, address: string): void }).connectSync(9, '127.0.0.1')
        } catch (e) {
          ctx.rec('connectSync', e)
        }
        s.connect(9, '127.0.0.2', (err?: unknown) => {
          ctx.rec('then connect elsewhere', err)
          ctx.done()
        })
      },
    )
  })
})
