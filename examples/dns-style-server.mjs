// A tiny DNS-style request/response server: each request carries a 16-bit id and a name; the
// server answers with the same id and an address from its table, or an error code. The
// client matches answers to requests by id and retries once on timeout, as DNS clients do.
import { createSocket, promises } from '@dgramx/dgram'

const TABLE = new Map([
  ['alpha.local', '10.0.0.1'],
  ['beta.local', '10.0.0.2'],
])

// Wire format: [id u16][name length u8][name] -> [id u16][rcode u8][address text]
const server = createSocket('udp4')
server.on('message', (req, rinfo) => {
  if (req.length < 3) return // not ours: drop, as a DNS server drops junk
  const id = req.readUInt16BE(0)
  const name = req.subarray(3, 3 + req[2]).toString()
  const address = TABLE.get(name)
  const res = Buffer.concat([Buffer.from([id >> 8, id & 0xff, address ? 0 : 3]), Buffer.from(address ?? '')])
  server.send(res, rinfo.port, rinfo.address)
})
await promises.bind(server, 0, '127.0.0.1')
const { port } = server.address()

const client = createSocket('udp4')
const pending = new Map()
client.on('message', (res) => {
  const id = res.readUInt16BE(0)
  const waiter = pending.get(id)
  if (!waiter) return // late or duplicate answer
  pending.delete(id)
  waiter(res[2] === 0 ? res.subarray(3).toString() : `NXDOMAIN (rcode ${res[2]})`)
})

let nextId = 1
function resolveName(name, attempt = 1) {
  const id = nextId++ & 0xffff
  const req = Buffer.concat([Buffer.from([id >> 8, id & 0xff, Buffer.byteLength(name)]), Buffer.from(name)])
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      pending.delete(id)
      if (attempt < 2) resolveName(name, attempt + 1).then(resolve, reject)
      else reject(new Error(`${name}: no answer`))
    }, 1000)
    pending.set(id, (answer) => (clearTimeout(timer), resolve(answer)))
    client.send(req, port, '127.0.0.1')
  })
}

for (const name of ['alpha.local', 'beta.local', 'gamma.local']) console.log(`${name} -> ${await resolveName(name)}`)
client.close()
server.close()
