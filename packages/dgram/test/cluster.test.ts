// Sockets in cluster workers, compared with node:dgram: a non-exclusive bind gets the primary's
// socket (two workers binding port 0 share one port, and either may receive), an exclusive
// bind is the worker's own, a failure from the primary is a 'bind' error with its code, and
// cluster.disconnect() closes the shared sockets ('close' fires) so the workers exit.
import fs from 'node:fs'
import path from 'node:path'
import { spawn } from 'node:child_process'
import { describe, expect, it } from 'vitest'
import { builtPackage, childExecutable } from './child'
import { tempDir } from './harness'
import { isDeno } from './runtime'
import { timeScale } from './time-scale'

const script = `
const dgram = require(process.env.DGRAM_IMPL);
const cluster = require('node:cluster');
const out = (v) => console.log(JSON.stringify(v));

if (cluster.isPrimary) {
  const reports = {};
  let received = 0;
  const done = () => {
    if (Object.keys(reports).length < 3) return;
    const a = reports.a, b = reports.b;
    out({ sharedPortsEqual: a.shared === b.shared, exclusivePortsDiffer: a.exclusive !== b.exclusive && a.exclusive !== a.shared });
    out({ stolen: b.steal.replace(String(a.shared), 'PORT') });
    out({ failed: reports.c.failed });
    // Datagrams to the shared port reach the workers' shared socket.
    const sender = dgram.createSocket('udp4');
    let sent = 0;
    for (let i = 0; i < 4; i++) sender.send('x' + i, a.shared, '127.0.0.1', () => { if (++sent === 4) sender.close(); });
  };
  for (const role of ['a', 'b', 'c']) {
    const w = cluster.fork({ ROLE: role });
    w.on('message', (m) => {
      if (m.received) {
        if (++received === 4) cluster.disconnect();
        return;
      }
      reports[role] = m;
      done();
    });
    w.on('exit', (code, signal) => out({ exit: role, code, signal }));
  }
} else {
  const role = process.env.ROLE;
  if (role === 'c') {
    // The primary refuses: node's cluster reports a libuv error number.
    cluster._getServer = (obj, options, cb) => cb(-1);
    const s = dgram.createSocket('udp4');
    s.on('error', (e) => {
      process.send({ failed: { message: e.message, code: e.code, errno: e.errno, syscall: e.syscall, address: e.address } });
      s.close();
    });
    s.bind(0);
    return;
  }
  const shared = dgram.createSocket('udp4');
  shared.on('message', () => process.send({ received: true }));
  shared.on('close', () => out({ close: role }));
  shared.bind(0, '127.0.0.1', () => {
    const own = dgram.createSocket('udp4');
    own.bind({ port: 0, address: '127.0.0.1', exclusive: true }, () => {
      const report = { shared: shared.address().port, exclusive: own.address().port };
      own.close();
      if (role === 'a') return process.send(report);
      // An exclusive bind to the port the workers share fails: the primary holds it.
      const thief = dgram.createSocket('udp4');
      thief.on('error', (e) => {
        thief.close();
        process.send({ ...report, steal: e.message });
      });
      thief.bind({ port: report.shared, address: '127.0.0.1', exclusive: true });
    });
  });
}
`

function run(file: string, impl: string): Promise<{ lines: unknown[]; stderr: string; code: number | null }> {
  return new Promise((resolve, reject) => {
    // node:dgram's run is real Node's, also under Bun or Deno (see childExecutable).
    const child = spawn(childExecutable(impl === 'node:dgram' ? 'node' : 'dgramx'), [file], { env: { ...process.env, DGRAM_IMPL: impl }, stdio: ['ignore', 'pipe', 'pipe'] })
    let stdout = ''
    let stderr = ''
    child.stdout.on('data', (d: Buffer) => (stdout += d))
    child.stderr.on('data', (d: Buffer) => (stderr += d))
    const timer = setTimeout(() => child.kill('SIGKILL'), 20_000 * timeScale)
    child.on('error', reject)
    child.on('close', (code) => {
      clearTimeout(timer)
      const lines = stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as unknown)
      // Workers print concurrently: compare as a set.
      lines.sort((x, y) => JSON.stringify(x).localeCompare(JSON.stringify(y)))
      resolve({ lines, stderr, code })
    })
  })
}

const underBun = typeof (process.versions as Record<string, unknown>).bun === 'string'

describe.runIf(underBun)('cluster workers under Bun', () => {
  it('a worker binds by itself (Bun\'s cluster shares no UDP socket) and receives', async () => {
    const file = path.join(tempDir(), 'bun-cluster.js')
    fs.writeFileSync(
      file,
      `const dgram = require(${JSON.stringify(builtPackage)});
       const cluster = require('node:cluster');
       if (cluster.isPrimary) {
         const w = cluster.fork();
         w.on('message', (port) => {
           const c = dgram.createSocket('udp4');
           c.send('hi', port, '127.0.0.1', () => c.close());
         });
         w.on('exit', (code) => console.log(JSON.stringify({ exit: code })));
       } else {
         const s = dgram.createSocket('udp4');
         s.on('message', (m) => { console.log(JSON.stringify({ got: String(m) })); s.close(); process.exit(0) });
         s.bind(0, '127.0.0.1', () => process.send(s.address().port));
       }`,
    )
    const r = await run(file, builtPackage)
    expect(r.stderr).toBe('')
    expect(r.lines).toEqual([{ exit: 0 }, { got: 'hi' }])
  })
})

// Bun's cluster shares no UDP socket (its primary answers a worker's request without a
// handle), so there is nothing of node's to compare with; the test above covers Bun.
// Deno's node:cluster starts no workers (the run only times out).
describe.skipIf(process.platform === 'win32' || underBun || isDeno)('cluster workers (differential)', () => {
  it('non-exclusive binds share the primary socket; exclusive ones do not; disconnect closes the shared ones', async () => {
    const file = path.join(tempDir(), 'cluster-script.js')
    fs.writeFileSync(file, script)
    const node = await run(file, 'node:dgram')
    const ours = await run(file, builtPackage)
    expect(node.lines).toEqual([
      { close: 'a' },
      { close: 'b' },
      { exit: 'a', code: 0, signal: null },
      { exit: 'b', code: 0, signal: null },
      { exit: 'c', code: 0, signal: null },
      { failed: { message: 'bind EPERM 0.0.0.0', code: 'EPERM', errno: -1, syscall: 'bind', address: '0.0.0.0' } },
      { sharedPortsEqual: true, exclusivePortsDiffer: true },
      { stolen: 'bind EADDRINUSE 127.0.0.1:PORT' },
    ])
    expect({ ...ours, stderr: ours.stderr.trim() }).toEqual({ ...node, stderr: node.stderr.trim() })
    expect(ours.code).toBe(0)
  }, 60_000 * timeScale)
})
