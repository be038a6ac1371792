// The seed's examples, run as written in fresh processes (temp paths and free ports instead of
// fixed ones), against node:dgram where it applies and always against us.
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket } from '../src/index'
import { runScript } from './child'
import { once, tempDir, withTimeout } from './harness'

/** A port that was free a moment ago: bound on loopback by a socket, then released. */
async function freePort(): Promise<number> {
  const s = createSocket('udp4')
  s.bind(0, '127.0.0.1')
  await once(s, 'listening')
  const { port } = s.address()
  s.close()
  await once(s, 'close')
  return port
}

describe('seed examples', () => {
  it('unix echo server, and a client bound to its own path', async () => {
    const dir = tempDir()
    const script = `
      const SERVER_PATH = ${JSON.stringify(path.join(dir, 'echo.sock'))};
      const CLIENT_PATH = ${JSON.stringify(path.join(dir, 'client.sock'))};

      const server = dgram.createSocket('unix_dgram');
      server.on('message', (msg, rinfo) => {
        console.log('server got "' + msg + '" from ' + rinfo.address);
        server.send(msg, rinfo.address);
      });
      server.bind(SERVER_PATH);

      const client = dgram.createSocket('unix_dgram');
      client.on('message', (msg, rinfo) => {
        console.log('client got "' + msg + '" back from ' + rinfo.address);
        client.close();
        server.close();
      });
      client.bind(CLIENT_PATH);
      client.send(Buffer.from('hello'), 0, 5, SERVER_PATH);`
    const result = await runScript(script, 'dgramx')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    expect(result.stdout).toBe(
      `server got "hello" from ${path.join(dir, 'client.sock')}\nclient got "hello" back from ${path.join(dir, 'echo.sock')}\n`,
    )
  })

  it('UDP server on a port printing server.address() (same output as node:dgram)', async () => {
    const port = await freePort()
    const script = `
      const server = dgram.createSocket('udp4');
      server.on('error', (err) => {
        console.error('server error:\\n' + err.stack);
        server.close();
      });
      server.on('message', (msg, rinfo) => {
        console.log('server got: ' + msg + ' from ' + rinfo.address);
        server.close();
      });
      server.on('listening', () => {
        const address = server.address();
        console.log('server listening ' + address.address + ':' + address.port);
        console.log(JSON.stringify(address));
        const client = dgram.createSocket('udp4');
        client.bind(0, '127.0.0.1', () => client.send('hi', ${port}, '127.0.0.1', () => client.close()));
      });
      server.bind(${port}, '127.0.0.1');`
    const mine = await runScript(script, 'dgramx')
    const theirs = await runScript(script, 'node')
    expect(theirs.stdout).toBe(`server listening 127.0.0.1:${port}\n{"address":"127.0.0.1","family":"IPv4","port":${port}}\nserver got: hi from 127.0.0.1\n`)
    expect(mine).toEqual(theirs)
  })

  it('a syslog-style client sending to a path, received by a local unix_dgram receiver', async () => {
    const logPath = path.join(tempDir(), 'log')
    const receiver = createSocket('unix_dgram')
    receiver.bind(logPath)
    await once(receiver, 'listening')
    const got = once(receiver, 'message')
    const script = `
      const message = Buffer.from('<14>Jan  1 00:00:00 myapp[123]: hello syslog');
      const client = dgram.createSocket('unix_dgram');
      client.send(message, 0, message.length, ${JSON.stringify(logPath)}, (err) => {
        if (err) console.error(err);
        client.close();
      });`
    const result = await runScript(script, 'dgramx')
    expect(result.stderr).toBe('')
    expect(result.code).toBe(0)
    const [msg, rinfo] = (await withTimeout(got, 5000, 'the log line')) as [Buffer, { address: string }]
    expect(msg.toString()).toBe('<14>Jan  1 00:00:00 myapp[123]: hello syslog')
    expect(rinfo.address).toBe('')
    receiver.close()
  })
})
