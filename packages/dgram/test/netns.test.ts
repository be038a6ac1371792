// Real effects on the wire, between hosts built from network namespaces (netns.ts):
// - a multi-homed server bound to 0.0.0.0 answers from the address each request was sent to
//   (pktinfo in, per-send source out), where a plain send answers from the primary address;
// - bindToDevice splits one port between interfaces;
// - "fragmentation needed" from a router in front of a 1280-byte link surfaces as an 'icmp'
//   event with the MTU, after which the path MTU is known and DF sends over it fail EMSGSIZE.
// Needs root and iproute2 (CI runs as root); without them these tests skip with the global setup's
// banner, and .ci/run (DGRAMX_REQUIRE_PEERS=1) fails instead.
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { Lab, requireNetns } from './netns'
import { lacks } from './lacks'

describe.skipIf(lacks('root', 'ip'))('multi-homed host (namespaces)', () => {
  const lab = new Lab()
  let server: string
  let client: string

  beforeAll(() => {
    requireNetns()
    server = lab.ns('srv')
    client = lab.ns('cli')
    // Two links; the first carries a second address on the server side.
    lab.link(client, 'c1', '10.77.1.2/24', server, 's1', '10.77.1.1/24')
    lab.link(client, 'c2', '10.77.2.2/24', server, 's2', '10.77.2.1/24')
    lab.link(client, 'c3', 'fd00:77:3::2/64', server, 's3', 'fd00:77:3::1/64')
    lab.exec(server, 'ip', 'addr', 'add', '10.77.1.100/24', 'dev', 's1')
    lab.exec(server, 'ip', 'addr', 'add', 'fd00:77:3::100/64', 'dev', 's3', 'nodad')
  })
  afterAll(() => lab.cleanup())

  const serverScript = `
    const sockets = [];
    function listen(s, port) { sockets.push(s); return new Promise((r) => s.bind(port, () => r())); }
    (async () => {
      // Replies from the address the request was sent to, on the interface it came in on.
      const smart = dgram.createSocket({ type: 'udp4', recvMetadata: { pktinfo: true } });
      smart.on('message', (msg, rinfo) => {
        const body = JSON.stringify({ local: rinfo.localAddress, ifindex: rinfo.interfaceIndex });
        smart.sendWith(body, { port: rinfo.port, address: rinfo.address, source: rinfo.localAddress });
      });
      await listen(smart, 7001);
      // Replies with a plain send: the kernel picks the source by route.
      const naive = dgram.createSocket('udp4');
      naive.on('message', (msg, rinfo) => naive.send('naive', rinfo.port, rinfo.address));
      await listen(naive, 7002);
      // IPv6, dual-stack wildcard.
      const smart6 = dgram.createSocket({ type: 'udp6', recvMetadata: { pktinfo: true } });
      smart6.on('message', (msg, rinfo) => {
        smart6.sendWith(JSON.stringify({ local: rinfo.localAddress, ifindex: rinfo.interfaceIndex }),
          { port: rinfo.port, address: rinfo.address, source: rinfo.localAddress });
      });
      await listen(smart6, 7003);
      // One port, split between interfaces with SO_BINDTODEVICE (set before bind).
      for (const dev of ['s1', 's2']) {
        const s = dgram.createSocket('udp4');
        s.bindToDevice(dev);
        s.on('message', (msg, rinfo) => s.send(dev, rinfo.port, rinfo.address));
        await listen(s, 7004);
      }
      // Bound to lo only: datagrams arriving on s1 find no socket.
      const loOnly = dgram.createSocket('udp4');
      loOnly.bindToDevice('lo');
      loOnly.on('message', (msg, rinfo) => loOnly.send('lo', rinfo.port, rinfo.address));
      await listen(loOnly, 7005);
      out({ ready: true });
    })().catch((e) => { out({ error: String(e), code: e.code }); process.exit(1); });
  `

  // Sends one request per (address, port) and reports what came back, from where.
  const clientScript = (requests: [string, number][], type = 'udp4') => `
    const s = dgram.createSocket({ type: ${JSON.stringify(type)}, recvErrors: true });
    const results = [];
    s.bind(0, async () => {
      for (const [address, port] of ${JSON.stringify(requests)}) {
        const r = await new Promise((resolve) => {
          const done = (v) => { clearTimeout(t); s.removeListener('message', onMsg); s.removeListener('icmp', onIcmp); resolve(v); };
          const onMsg = (msg, rinfo) => done({ from: rinfo.address, body: msg.toString() });
          const onIcmp = (e) => done({ icmp: e.kind, address: e.address, port: e.port });
          const t = setTimeout(() => done({ timeout: true }), 5000);
          s.on('message', onMsg);
          s.on('icmp', onIcmp);
          s.send('ping', port, address);
        });
        results.push({ to: address, port, ...r });
      }
      out(results);
      s.close();
    });
  `

  it('answers from the address each request arrived on (pktinfo + sendWith source); a plain send does not', async () => {
    const srv = lab.node(server, serverScript)
    expect(await srv.next()).toEqual({ ready: true })
    const s1 = lab.ifindex(server, 's1')
    const s2 = lab.ifindex(server, 's2')
    const cli = lab.node(client, clientScript([
      ['10.77.1.1', 7001],
      ['10.77.1.100', 7001],
      ['10.77.2.1', 7001],
      ['10.77.1.100', 7002],
    ]))
    const results = await cli.next<Record<string, unknown>[]>()
    expect(results.slice(0, 3)).toEqual([
      { to: '10.77.1.1', port: 7001, from: '10.77.1.1', body: JSON.stringify({ local: '10.77.1.1', ifindex: s1 }) },
      { to: '10.77.1.100', port: 7001, from: '10.77.1.100', body: JSON.stringify({ local: '10.77.1.100', ifindex: s1 }) },
      { to: '10.77.2.1', port: 7001, from: '10.77.2.1', body: JSON.stringify({ local: '10.77.2.1', ifindex: s2 }) },
    ])
    // The bug this fixes: the reply to the secondary address leaves from the primary one.
    expect(results[3]).toEqual({ to: '10.77.1.100', port: 7002, from: '10.77.1.1', body: 'naive' })

    const cli6 = lab.node(client, clientScript([
      ['fd00:77:3::1', 7003],
      ['fd00:77:3::100', 7003],
    ], 'udp6'))
    const s3 = lab.ifindex(server, 's3')
    expect(await cli6.next()).toEqual([
      { to: 'fd00:77:3::1', port: 7003, from: 'fd00:77:3::1', body: JSON.stringify({ local: 'fd00:77:3::1', ifindex: s3 }) },
      { to: 'fd00:77:3::100', port: 7003, from: 'fd00:77:3::100', body: JSON.stringify({ local: 'fd00:77:3::100', ifindex: s3 }) },
    ])

    // bindToDevice: each interface's socket gets its own traffic; a lo-bound one gets none.
    const cli2 = lab.node(client, clientScript([
      ['10.77.1.1', 7004],
      ['10.77.2.1', 7004],
      ['10.77.1.1', 7005],
    ]))
    expect(await cli2.next()).toEqual([
      { to: '10.77.1.1', port: 7004, from: '10.77.1.1', body: 's1' },
      { to: '10.77.2.1', port: 7004, from: '10.77.2.1', body: 's2' },
      { to: '10.77.1.1', port: 7005, icmp: 'port-unreachable', address: '10.77.1.1' },
    ])
  })
})

describe.skipIf(lacks('root', 'ip'))('path MTU (namespaces)', () => {
  const lab = new Lab()
  let client: string
  let router: string
  let far: string

  beforeAll(() => {
    requireNetns()
    client = lab.ns('cli')
    router = lab.ns('rtr')
    far = lab.ns('far')
    lab.link(client, 'c1', '10.78.1.2/24', router, 'r1', '10.78.1.1/24')
    lab.link(router, 'r2', '10.78.2.1/24', far, 'f1', '10.78.2.2/24', 1280)
    lab.exec(router, 'sysctl', '-qw', 'net.ipv4.ip_forward=1')
    lab.exec(client, 'ip', 'route', 'add', '10.78.2.0/24', 'via', '10.78.1.1')
    lab.exec(far, 'ip', 'route', 'add', '10.78.1.0/24', 'via', '10.78.2.1')
    // The same path over IPv6 (routers never fragment; they answer "packet too big").
    for (const [ns, dev, addr] of [
      [client, 'c1', 'fd00:78:1::2/64'],
      [router, 'r1', 'fd00:78:1::1/64'],
      [router, 'r2', 'fd00:78:2::1/64'],
      [far, 'f1', 'fd00:78:2::2/64'],
    ]) {
      lab.exec(ns, 'ip', 'addr', 'add', addr, 'dev', dev, 'nodad')
    }
    lab.exec(router, 'sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1')
    lab.exec(client, 'ip', 'route', 'add', 'fd00:78:2::/64', 'via', 'fd00:78:1::1')
    lab.exec(far, 'ip', 'route', 'add', 'fd00:78:1::/64', 'via', 'fd00:78:2::1')
  })
  afterAll(() => lab.cleanup())

  it("DF ('do') past a 1280-byte hop: 'icmp' fragmentation-needed with the MTU, then getPathMTU() and EMSGSIZE; 'dont' fragments", async () => {
    const srv = lab.node(far, `
      const s = dgram.createSocket('udp4');
      s.on('message', (msg, rinfo) => s.send(String(msg.length), rinfo.port, rinfo.address));
      s.bind(7100, () => out({ ready: true }));
    `)
    expect(await srv.next()).toEqual({ ready: true })
    const cli = lab.node(client, `
      const wait = (s, ev) => new Promise((resolve) => {
        const t = setTimeout(() => resolve({ timeout: ev }), 5000);
        s.once(ev, (...a) => { clearTimeout(t); resolve(a); });
      });
      (async () => {
        const s = dgram.createSocket({ type: 'udp4', recvErrors: true });
        const icmps = [];
        s.on('icmp', (e) => icmps.push(e));
        s.setMTUDiscover('do');
        s.connect(7100, '10.78.2.2');
        await wait(s, 'connect');
        const before = s.getPathMTU();
        // Small enough for every hop: answered.
        const small = wait(s, 'message');
        s.send(Buffer.alloc(1000));
        const [reply] = await small;
        // Too big for the 1280 link, DF set: the router answers with ICMP.
        const icmp = wait(s, 'icmp');
        s.send(Buffer.alloc(1400));
        await icmp;
        const after = s.getPathMTU();
        const again = await new Promise((resolve) => s.send(Buffer.alloc(1400), (err) => resolve(err && { code: err.code, syscall: err.syscall })));
        out({ before, reply: String(reply), icmp: icmps[0], after, again });

        // Without DF the same datagram is fragmented and arrives whole.
        const f = dgram.createSocket('udp4');
        f.setMTUDiscover('dont');
        f.connect(7100, '10.78.2.2');
        await wait(f, 'connect');
        const big = wait(f, 'message');
        f.send(Buffer.alloc(1400));
        const [fragmented] = await big;
        out({ dont: String(fragmented) });
        s.close(); f.close();
      })().catch((e) => { out({ error: String(e) }); process.exit(1); });
    `)
    const r = await cli.next()
    expect(r).toMatchObject({
      before: 1500,
      reply: '1000',
      icmp: {
        kind: 'fragmentation-needed',
        code: 'EMSGSIZE',
        origin: 'icmp',
        icmpType: 3,
        icmpCode: 4,
        mtu: 1280,
        address: '10.78.2.2',
        port: 7100,
        offender: '10.78.1.1',
      },
      after: 1280,
      again: { code: 'EMSGSIZE', syscall: 'send' },
    })
    expect(await cli.next()).toEqual({ dont: '1400' })
  })

  it("udp6: 'icmp' packet-too-big from the router with the MTU, then getPathMTU() and EMSGSIZE", async () => {
    const srv = lab.node(far, `
      const s = dgram.createSocket('udp6');
      s.on('message', (msg, rinfo) => s.send(String(msg.length), rinfo.port, rinfo.address));
      s.bind(7101, () => out({ ready: true }));
    `)
    expect(await srv.next()).toEqual({ ready: true })
    const cli = lab.node(client, `
      const wait = (s, ev) => new Promise((resolve) => {
        const t = setTimeout(() => resolve({ timeout: ev }), 5000);
        s.once(ev, (...a) => { clearTimeout(t); resolve(a); });
      });
      (async () => {
        const s = dgram.createSocket({ type: 'udp6', recvErrors: true });
        const icmps = [];
        s.on('icmp', (e) => icmps.push(e));
        s.setMTUDiscover('do');
        s.connect(7101, 'fd00:78:2::2');
        await wait(s, 'connect');
        const before = s.getPathMTU();
        const small = wait(s, 'message');
        s.send(Buffer.alloc(1000));
        const [reply] = await small;
        const icmp = wait(s, 'icmp');
        s.send(Buffer.alloc(1400));
        await icmp;
        const after = s.getPathMTU();
        const again = await new Promise((resolve) => s.send(Buffer.alloc(1400), (err) => resolve(err && { code: err.code })));
        out({ before, reply: String(reply), icmp: icmps[0], after, again });
        s.close();
      })().catch((e) => { out({ error: String(e) }); process.exit(1); });
    `)
    expect(await cli.next()).toMatchObject({
      before: 1500,
      reply: '1000',
      icmp: {
        kind: 'fragmentation-needed',
        code: 'EMSGSIZE',
        origin: 'icmp6',
        icmpType: 2,
        icmpCode: 0,
        mtu: 1280,
        address: 'fd00:78:2::2',
        port: 7101,
        family: 'IPv6',
        offender: 'fd00:78:1::1',
      },
      after: 1280,
      again: { code: 'EMSGSIZE' },
    })
  })
})
