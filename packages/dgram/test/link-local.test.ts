// IPv6 link-local addresses carry their zone, compared with node:dgram on a real link: two
// network namespaces joined by a veth pair, each end with a fe80:: address. A datagram from
// fe80::… arrives with `rinfo.address` 'fe80::b%lla' (the receiving interface's name), and
// bind/send/connect take '%name' (and, unlike node:dgram on Unix, '%index');
// address()/remoteAddress() report the zone too.
// Needs root and iproute2, like netns.test.ts.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, requireNetns } from './netns'
import { lacks } from './lacks'

describe.skipIf(lacks('root', 'ip'))('IPv6 link-local scope (namespaces, differential)', () => {
  const lab = new Lab()
  let a: string
  let b: string
  let indexB: number

  beforeAll(() => {
    requireNetns()
    a = lab.ns('lla')
    b = lab.ns('llb')
    // Fixed link-local addresses (nodad: usable at once, no duplicate-address detection wait).
    lab.link(a, 'lla', 'fe80::a/64', b, 'llb', 'fe80::b/64')
    indexB = lab.ifindex(b, 'llb')
  })
  afterAll(() => lab.cleanup())

  // In namespace a: an echo server per implementation on fe80::a%lla.
  const serverScript = `
    const impls = pick({ node: require('node:dgram'), ours: dgram });
    const ports = {};
    let pending = Object.keys(impls).length;
    for (const [name, d] of Object.entries(impls)) {
      const s = d.createSocket('udp6');
      s.on('message', (msg, rinfo) => {
        s.send(JSON.stringify({ from: rinfo.address, family: rinfo.family }), rinfo.port, rinfo.address);
      });
      s.bind({ address: 'fe80::a%lla', port: 0 }, () => {
        const { address, family } = s.address();
        ports[name] = { port: s.address().port, address, family };
        if (--pending === 0) out(ports);
      });
    }
  `

  // In namespace b: each implementation talks to its own server, by zone name and by index,
  // unconnected and connected (both bound to fe80::b first, so the source is known), and
  // reports every address it sees, or the first error.
  const clientScript = (ports: Record<string, { port: number }>, index: number) => `
    const impls = pick({ node: require('node:dgram'), ours: dgram });
    const ports = ${JSON.stringify(ports)};
    const ask = (s, send) => new Promise((resolve) => {
      const t = setTimeout(() => resolve({ timeout: true }), 5000);
      s.once('message', (msg, rinfo) => {
        clearTimeout(t);
        resolve({ reply: JSON.parse(msg), replyFrom: rinfo.address });
      });
      send();
    });
    const bound = (s, zone) => new Promise((resolve, reject) => {
      s.once('error', reject);
      s.bind({ address: 'fe80::b%' + zone, port: 0 }, () => resolve(s.address().address));
    });
    (async () => {
      const results = {};
      for (const [name, d] of Object.entries(impls)) {
        const port = ports[name].port;
        const rows = [];
        for (const zone of ['llb', '${index}']) {
          const s = d.createSocket('udp6');
          try {
            const local = await bound(s, zone);
            rows.push({ zone, local, ...(await ask(s, () => s.send('hi', port, 'fe80::a%' + zone))) });
            const c = d.createSocket('udp6');
            await bound(c, zone);
            await new Promise((r, j) => c.connect(port, 'fe80::a%' + zone, (e) => (e ? j(e) : r())));
            const remote = c.remoteAddress();
            rows.push({ zone, connected: true, remote: remote.address, remoteFamily: remote.family,
              ...(await ask(c, () => c.send('hi'))) });
            c.close();
          } catch (e) {
            rows.push({ zone, error: e.code, syscall: e.syscall });
          }
          s.close();
        }
        results[name] = rows;
      }
      out(results);
    })().catch((e) => { out({ error: String(e), code: e.code }); process.exit(1); });
  `

  it("rinfo.address, address() and remoteAddress() carry '%zone'; send/bind/connect take a name or an index", async () => {
    const ports = await lab.both<Record<string, { port: number; address: string; family: string }>>(a, serverScript)
    expect(ports.node).toEqual({ port: expect.any(Number), address: 'fe80::a%lla', family: 'IPv6' })
    expect(ports.ours).toEqual({ ...ports.node, port: ports.ours.port })

    const results = await lab.both<Record<string, unknown[]>>(b, clientScript(ports, indexB), 20_000)
    expect(results.error).toBeUndefined()
    // The receiver sees the sender with the zone of its own interface (lla); replies to
    // rinfo.address arrive from fe80::a%llb.
    const rows = (zone: string) => [
      { zone, local: 'fe80::b%llb', reply: { from: 'fe80::b%lla', family: 'IPv6' }, replyFrom: 'fe80::a%llb' },
      { zone, connected: true, remote: 'fe80::a%llb', remoteFamily: 'IPv6', reply: { from: 'fe80::b%lla', family: 'IPv6' }, replyFrom: 'fe80::a%llb' },
    ]
    // A zone by name: the same as node:dgram.
    expect(results.node.slice(0, 2)).toEqual(rows('llb'))
    expect(results.ours.slice(0, 2)).toEqual(results.node.slice(0, 2))
    // A zone by index: libuv on Unix resolves the zone with if_nametoindex only, so node:dgram
    // gets scope 0 and the bind fails with EINVAL; we take the index too (DIFFERENCES.md).
    expect(results.node.slice(2)).toEqual([{ zone: String(indexB), error: 'EINVAL', syscall: 'bind' }])
    expect(results.ours.slice(2)).toEqual(rows(String(indexB)))
  })
})
