// unix_dgram address forms: paths, abstract names in both spellings ('\0name' and '@name'),
// autobind and unnamed senders; what address(), remoteAddress() and rinfo report, and that a
// reply to rinfo.address reaches the sender in every form.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixRemoteInfo, type UnixSocket } from '../src/index'
import { once, outcome, tempDir, withTimeout } from './harness'

let seq = 0
function abstractName(): string {
  return `dgramx-addr-${process.pid}-${Date.now()}-${seq++}`
}

async function bound(name?: string | Buffer): Promise<UnixSocket> {
  const s = createSocket('unix_dgram')
  if (name === undefined) s.bind()
  else s.bind(name)
  await once(s, 'listening')
  return s
}

function next(s: UnixSocket): Promise<[Buffer, UnixRemoteInfo]> {
  return once(s, 'message') as Promise<[Buffer, UnixRemoteInfo]>
}

/** The server echoes to rinfo.address; the client must get its datagram back. */
async function echoRoundTrip(serverName: string | Buffer, sendTo: string | Buffer, client: UnixSocket): Promise<UnixRemoteInfo> {
  const server = await bound(serverName)
  let seen: UnixRemoteInfo | undefined
  server.on('message', (msg, rinfo) => {
    seen = rinfo
    server.send(msg, rinfo.address)
  })
  const back = next(client)
  client.send('ping', sendTo)
  const [msg] = await back
  expect(msg.toString()).toBe('ping')
  server.close()
  return seen!
}

describe('unix_dgram address forms', () => {
  it("'@name' binds the abstract name '\\0name'; address() reports it with the NUL", async () => {
    const name = abstractName()
    const s = await bound(`@${name}`)
    expect(s.address()).toEqual({ address: `\0${name}` })
    // Both spellings reach it.
    const c = createSocket('unix_dgram')
    const got: string[] = []
    const both = new Promise<void>((resolve) =>
      s.on('message', (m) => {
        if (got.push(m.toString()) === 2) resolve()
      }),
    )
    c.send('at', `@${name}`)
    c.send('nul', `\0${name}`)
    await withTimeout(both, 5000, 'two datagrams')
    expect(got).toEqual(['at', 'nul'])
    c.close()
    s.close()
  })

  it('an abstract name has its exact length: a name and its prefix are different sockets', async () => {
    const name = abstractName()
    const long = await bound(`@${name}-long`)
    const short = await bound(`@${name}`)
    expect(long.address().address).toBe(`\0${name}-long`)
    expect(short.address().address).toBe(`\0${name}`)
    const c = createSocket('unix_dgram')
    const got = next(short)
    c.send('to short', `@${name}`)
    expect((await got)[0].toString()).toBe('to short')
    long.close()
    short.close()
    c.close()
  })

  it('a Buffer is taken as raw bytes: Buffer("@x") is a file named @x, not an abstract name', async () => {
    const dir = tempDir()
    const file = path.join(dir, '@literal')
    const s = await bound(Buffer.from(file))
    expect(s.address()).toEqual({ address: file })
    const rel = createSocket('unix_dgram')
    // './@name' is the string spelling of a relative file that starts with '@'.
    expect(outcome(() => rel.send('x', './@nothing-here', () => {})).threw).toBeUndefined()
    rel.close()
    s.close()
  })

  it('replies to rinfo.address reach a path-bound sender', async () => {
    const dir = tempDir()
    const c = await bound(path.join(dir, 'client.sock'))
    const rinfo = await echoRoundTrip(path.join(dir, 'server.sock'), path.join(dir, 'server.sock'), c)
    expect(rinfo).toEqual({ address: path.join(dir, 'client.sock'), size: 4 })
    c.close()
  })

  it("replies to rinfo.address reach an abstract sender bound with '@name'", async () => {
    const name = abstractName()
    const c = await bound(`@${name}-client`)
    const rinfo = await echoRoundTrip(`@${name}`, `@${name}`, c)
    expect(rinfo).toEqual({ address: `\0${name}-client`, size: 4 })
    c.close()
  })

  it('replies to rinfo.address reach an autobound sender; its name is 5 hex digits after the NUL', async () => {
    const c = await bound()
    const own = c.address().address
    expect(own).toMatch(/^\0[0-9a-f]{5}$/)
    const name = abstractName()
    const rinfo = await echoRoundTrip(`\0${name}`, `@${name}`, c)
    expect(rinfo.address).toBe(own)
    c.close()
  })

  it("an unnamed sender is ''; the receiver cannot reply (send to '' is rejected at the call)", async () => {
    const name = abstractName()
    const s = await bound(`@${name}`)
    const c = createSocket('unix_dgram')
    const got = next(s)
    c.send('anon', `@${name}`)
    const [, rinfo] = await got
    expect(rinfo).toEqual({ address: '', size: 4 })
    expect(outcome(() => s.send('x', rinfo.address)).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    c.close()
    s.close()
  })

  it('connect and remoteAddress() with an abstract peer, in both spellings', async () => {
    const name = abstractName()
    const s = await bound(`@${name}`)
    for (const spelling of [`@${name}`, `\0${name}`]) {
      const c = createSocket('unix_dgram')
      await new Promise<void>((resolve, reject) => c.connect(spelling, (err?: Error) => (err ? reject(err) : resolve())))
      expect(c.remoteAddress()).toEqual({ address: `\0${name}` })
      const got = next(s)
      c.send(spelling)
      expect((await got)[0].toString()).toBe(spelling)
      c.close()
    }
    s.close()
  })

  it("'@' names are checked like '\\0' names: 108 bytes in all, errors name what was given", async () => {
    const s = createSocket('unix_dgram')
    expect(outcome(() => s.bind(`@${'a'.repeat(108)}`)).threw).toMatchObject({ class: 'RangeError', code: 'ERR_SOCKET_PATH_TOO_LONG' })
    const fits = `@${'b'.repeat(107)}`
    s.bind(fits)
    await once(s, 'listening')
    expect(s.address().address).toBe(`\0${'b'.repeat(107)}`)
    const c = createSocket('unix_dgram')
    const [err] = await new Promise<unknown[]>((resolve) => c.send('x', `@${abstractName()}-nobody`, (...a: unknown[]) => resolve(a)))
    expect(err).toMatchObject({ code: 'ECONNREFUSED', syscall: 'send' })
    expect((err as { address: string }).address.startsWith('@dgramx-addr-')).toBe(true)
    c.close()
    s.close()
  })
})
