// sd_notify from a service: tell systemd the service is ready, report status, feed the
// watchdog. Under systemd (Type=notify) NOTIFY_SOCKET is set and these reach the manager;
// without it notify() does nothing and resolves false. To show the datagrams, this example
// plays the manager itself on an abstract socket, the way systemd sets NOTIFY_SOCKET.
import { createSocket, promises } from '@dgramx/dgram'
import { notify, watchdogUsec } from '@dgramx/dgram/sd-notify'

const standalone = process.env.NOTIFY_SOCKET === undefined
if (standalone) {
  console.log('no NOTIFY_SOCKET: notify() is a no-op ->', await notify({ ready: true }))
}

// The stand-in manager.
const name = `@dgramx-example-notify-${process.pid}`
const manager = createSocket('unix_dgram')
const seen = []
manager.on('message', (msg) => seen.push(msg.toString().replaceAll('\n', ' | ')))
await promises.bind(manager, name)
process.env.NOTIFY_SOCKET = name
process.env.WATCHDOG_USEC = '5000000'

await notify({ status: 'loading configuration' })
await notify({ ready: true, status: 'serving', mainPid: process.pid })
const interval = watchdogUsec() // 5 s: ping at half of it in a real service
await notify({ watchdog: true })
await notify({ stopping: true, status: 'shutting down' })

// The receiver reads on this same thread: let the event loop run until it has them (bounded).
for (let i = 0; i < 200 && !(seen.length === 4); i++) await new Promise((resolve) => setTimeout(resolve, 5))
console.log(`watchdog interval ${interval} µs`)
for (const line of seen) console.log('manager got:', line)
manager.close()
if (seen.length !== 4) {
  console.error(`expected 4 datagrams, got ${seen.length}`)
  process.exit(1)
}
