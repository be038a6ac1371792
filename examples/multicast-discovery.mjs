// Peer discovery by multicast: a responder joins a group and answers "who is there?" probes
// with its service address; a seeker sends one probe and collects the answers. This example
// keeps everything on the loopback interface (join and send through 127.0.0.1); on a LAN use
// the host's interface address instead.
import { createSocket, promises } from '@dgramx/dgram'

const GROUP = '239.255.77.77'
const IFACE = '127.0.0.1'

async function responder(name, servicePort) {
  const s = createSocket({ type: 'udp4', reuseAddr: true })
  await promises.bind(s, DISCOVERY_PORT, '0.0.0.0')
  s.addMembership(GROUP, IFACE)
  s.setMulticastInterface(IFACE)
  s.on('message', (msg, rinfo) => {
    if (msg.toString() !== 'who is there?') return
    s.send(JSON.stringify({ name, port: servicePort }), rinfo.port, rinfo.address)
  })
  return s
}

// Pick a free port for the group traffic.
const probe = createSocket('udp4')
await promises.bind(probe, 0, '127.0.0.1')
const DISCOVERY_PORT = probe.address().port
probe.close()

const responders = [await responder('alpha', 7001), await responder('beta', 7002)]

const seeker = createSocket('udp4')
await promises.bind(seeker, 0)
seeker.setMulticastInterface(IFACE)
seeker.setMulticastLoopback(true)
seeker.setMulticastTTL(0) // never leaves this host
const found = []
const done = new Promise((resolve) => {
  seeker.on('message', (msg, rinfo) => {
    found.push({ ...JSON.parse(msg.toString()), from: `${rinfo.address}:${rinfo.port}` })
    if (found.length === responders.length) resolve()
  })
})
await promises.send(seeker, 'who is there?', DISCOVERY_PORT, GROUP)
const timer = setTimeout(() => (console.error('no answers'), process.exit(1)), 5000)
await done
clearTimeout(timer)
found.sort((a, b) => a.name.localeCompare(b.name))
for (const peer of found) console.log(`found ${peer.name} (service port ${peer.port}) answering from ${peer.from}`)
for (const s of [seeker, ...responders]) s.close()
