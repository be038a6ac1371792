// Reading and closing descriptors that arrived in rinfo.fds. Deno's node:fs refuses
// descriptors it did not open itself (EBADF), so there the tests read the file through
// /proc/self/fd and close through the facade's own close (what it uses for unclaimed ones).
import fs from 'node:fs'
import { closeFds } from '../src/unix'
import { isDeno } from './runtime'

/** The first bytes of the file behind a received descriptor, from offset 0. */
export function readReceived(fd: number, max = 100): string {
  if (isDeno) return fs.readFileSync(`/proc/self/fd/${fd}`, 'utf8').slice(0, max)
  const buf = Buffer.alloc(max)
  const n = fs.readSync(fd, buf, 0, buf.length, 0)
  return buf.subarray(0, n).toString()
}

/** Closes a received descriptor; it must be open (a stale number throws EBADF under Node). */
export function closeReceived(fd: number): void {
  if (isDeno) closeFds([fd])
  else fs.closeSync(fd)
}

/** Whether `fd` is open on a socket, closed, or open on something else (fstat; /proc under Deno). */
export function fdKind(fd: number): 'socket' | 'closed' | 'other' {
  if (isDeno) {
    try {
      return fs.readlinkSync(`/proc/self/fd/${fd}`).startsWith('socket:') ? 'socket' : 'other'
    } catch {
      return 'closed'
    }
  }
  try {
    return fs.fstatSync(fd).isSocket() ? 'socket' : 'other'
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EBADF') return 'closed'
    throw e
  }
}
