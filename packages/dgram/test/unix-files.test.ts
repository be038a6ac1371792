// The socket file, as net.Server users expect: by default bind replaces a socket file nobody is
// bound to (unlinkExisting: 'stale') and never anything else, and close removes the file this
// socket created (unlinkOnClose: true), only if it is still ours; `false` opts out of either.
// `mode` holds whatever the umask is.
import { spawn } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { createSocket, type UnixSocket } from '../src/index'
import { runScript } from './child'
import { errorShape, once, outcome, tempDir } from './harness'
import { timeScale } from './time-scale'

async function bound(p: string, options: Record<string, unknown> = {}): Promise<UnixSocket> {
  const s = createSocket('unix_dgram')
  s.bind({ path: p, ...options })
  await once(s, 'listening')
  return s
}

/** A socket file nobody is bound to any more. */
async function staleFile(p: string): Promise<void> {
  const s = await bound(p, { unlinkOnClose: false })
  s.close()
  await once(s, 'close')
  expect(fs.lstatSync(p).isSocket()).toBe(true)
}

async function bindError(p: string, options: Record<string, unknown> = {}): Promise<Record<string, unknown>> {
  const s = createSocket('unix_dgram')
  s.bind({ path: p, ...options })
  const [err] = await once(s, 'error')
  s.close()
  return errorShape(err)
}

describe('unix_dgram socket files', () => {
  it('by default a stale socket file is replaced, and close removes the new one', async () => {
    const p = path.join(tempDir(), 'stale.sock')
    await staleFile(p)
    const s = await bound(p)
    expect(s.address()).toEqual({ address: p })
    expect(fs.lstatSync(p).isSocket()).toBe(true)
    s.close()
    expect(fs.existsSync(p)).toBe(false)
  })

  it('the same path binds again and again, in one process and across processes', async () => {
    const p = path.join(tempDir(), 'again.sock')
    for (let i = 0; i < 3; i++) {
      const s = await bound(p)
      s.close()
      await once(s, 'close')
    }
    // A process that exits without close() leaves a stale file; the next one replaces it.
    const script = `
      const s = dgram.createSocket('unix_dgram');
      s.on('error', (e) => { console.log(e.code); process.exit(0); });
      s.bind(${JSON.stringify(p)}, () => { console.log('bound'); process.exit(0); });`
    for (let i = 0; i < 2; i++) {
      const result = await runScript(script, 'dgramx')
      expect(result.stderr).toBe('')
      expect(result.stdout).toBe('bound\n')
    }
    expect(fs.lstatSync(p).isSocket()).toBe(true)
    const s = await bound(p)
    s.close()
    expect(fs.existsSync(p)).toBe(false)
  })

  it('unlinkExisting: false keeps a stale socket file: EADDRINUSE, and the file stays', async () => {
    const p = path.join(tempDir(), 'stale.sock')
    await staleFile(p)
    expect(await bindError(p, { unlinkExisting: false })).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: p })
    expect(fs.lstatSync(p).isSocket()).toBe(true)
  })

  it("by default a live socket's file is left alone: EADDRINUSE, and the live socket still receives", async () => {
    const p = path.join(tempDir(), 'live.sock')
    const live = await bound(p)
    expect(await bindError(p)).toMatchObject({ code: 'EADDRINUSE', syscall: 'bind', address: p })
    const c = createSocket('unix_dgram')
    const got = once(live, 'message')
    c.send('still mine', p)
    expect(String((await got)[0])).toBe('still mine')
    c.close()
    live.close()
  })

  it('unlinkExisting: true removes a stale socket file and binds', async () => {
    const p = path.join(tempDir(), 'stale.sock')
    await staleFile(p)
    const s = await bound(p, { unlinkExisting: true })
    expect(s.address()).toEqual({ address: p })
    s.close()
  })

  it("unlinkExisting: true replaces even a live socket's file; 'stale' does not", async () => {
    const dir = tempDir()
    const p = path.join(dir, 'live.sock')
    const live = await bound(p)
    expect(await bindError(p, { unlinkExisting: 'stale' })).toMatchObject({ code: 'EADDRINUSE' })
    // The live socket still receives at its path.
    const c = createSocket('unix_dgram')
    const got = once(live, 'message')
    c.send('still here', p)
    expect(String((await got)[0])).toBe('still here')
    const taker = await bound(p, { unlinkExisting: true })
    const got2 = once(taker, 'message')
    c.send('new owner', p)
    expect(String((await got2)[0])).toBe('new owner')
    c.close()
    live.close()
    taker.close()
  })

  it("unlinkExisting: 'stale' removes a socket file nobody is bound to", async () => {
    const p = path.join(tempDir(), 'stale.sock')
    await staleFile(p)
    const s = await bound(p, { unlinkExisting: 'stale' })
    expect(s.address()).toEqual({ address: p })
    s.close()
  })

  it('unlinkExisting never removes a regular file, a directory or a symlink target', async () => {
    const dir = tempDir()
    const file = path.join(dir, 'data.txt')
    fs.writeFileSync(file, 'precious')
    const sub = path.join(dir, 'sub')
    fs.mkdirSync(sub)
    for (const how of [true, 'stale', undefined]) {
      expect(await bindError(file, { unlinkExisting: how })).toMatchObject({ code: 'EADDRINUSE' })
      expect(await bindError(sub, { unlinkExisting: how })).toMatchObject({ code: 'EADDRINUSE' })
    }
    expect(fs.readFileSync(file, 'utf8')).toBe('precious')
    expect(fs.statSync(sub).isDirectory()).toBe(true)
  })

  it('bad options are rejected at the call', () => {
    const s = createSocket('unix_dgram')
    const p = path.join(tempDir(), 'x.sock')
    expect(outcome(() => s.bind({ path: p, unlinkExisting: 'yes' as never })).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect(outcome(() => s.bind({ path: p, mode: '0600' as never })).threw).toMatchObject({ code: 'ERR_INVALID_ARG_TYPE' })
    expect(outcome(() => s.bind({ path: p, mode: 0o10000 })).threw).toMatchObject({ code: 'ERR_OUT_OF_RANGE' })
    expect(outcome(() => s.bind({ path: '@abstract', mode: 0o600 })).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    expect(outcome(() => s.bind({ mode: 0o600 })).threw).toMatchObject({ code: 'ERR_INVALID_ARG_VALUE' })
    s.close()
  })

  it('mode is applied to the socket file whatever the umask (fresh process with umask 077)', async () => {
    const dir = tempDir()
    const script = `
      process.umask(0o077);
      const fs = require('node:fs');
      const dir = ${JSON.stringify(dir)};
      const plain = dgram.createSocket('unix_dgram');
      const open = dgram.createSocket('unix_dgram');
      const tight = dgram.createSocket('unix_dgram');
      plain.bind(dir + '/plain.sock', () => {
        open.bind({ path: dir + '/open.sock', mode: 0o666 }, () => {
          tight.bind({ path: dir + '/tight.sock', mode: 0o600 }, () => {
            const m = (f) => (fs.statSync(dir + '/' + f).mode & 0o7777).toString(8);
            console.log(JSON.stringify([m('plain.sock'), m('open.sock'), m('tight.sock')]));
            plain.close(); open.close(); tight.close();
          });
        });
      });`
    const result = await runScript(script, 'dgramx')
    expect(result.stderr).toBe('')
    // Without mode the umask rules (0777 & ~077); with it, exactly what was asked for.
    expect(JSON.parse(result.stdout)).toEqual(['700', '666', '600'])
  })

  it('mode is applied before listening (0o666 here, with the test process umask)', async () => {
    const p = path.join(tempDir(), 'shared.sock')
    const s = await bound(p, { mode: 0o666 })
    expect(fs.statSync(p).mode & 0o777).toBe(0o666)
    s.close()
  })

  it('unlinkOnClose: false (createSocket option) keeps the file at close', async () => {
    const p = path.join(tempDir(), 'kept.sock')
    const s = createSocket({ type: 'unix_dgram', unlinkOnClose: false })
    s.bind(p)
    await once(s, 'listening')
    s.close()
    expect(fs.lstatSync(p).isSocket()).toBe(true)
  })

  it('unlinkOnClose (createSocket option) removes the file at close', async () => {
    const p = path.join(tempDir(), 'tmp.sock')
    const s = createSocket({ type: 'unix_dgram', unlinkOnClose: true })
    s.bind(p)
    await once(s, 'listening')
    expect(fs.existsSync(p)).toBe(true)
    s.close()
    expect(fs.existsSync(p)).toBe(false)
  })

  it('unlinkOnClose (bind option) removes the file by default; false keeps it', async () => {
    const dir = tempDir()
    const a = await bound(path.join(dir, 'a.sock'), { unlinkOnClose: true })
    const b = await bound(path.join(dir, 'b.sock'), { unlinkOnClose: false })
    const d = await bound(path.join(dir, 'd.sock'))
    a.close()
    b.close()
    d.close()
    expect(fs.existsSync(path.join(dir, 'a.sock'))).toBe(false)
    expect(fs.lstatSync(path.join(dir, 'b.sock')).isSocket()).toBe(true)
    expect(fs.existsSync(path.join(dir, 'd.sock'))).toBe(false)
    // The bind option overrides the createSocket one, both ways.
    const e = createSocket({ type: 'unix_dgram', unlinkOnClose: false })
    e.bind({ path: path.join(dir, 'e.sock'), unlinkOnClose: true })
    await once(e, 'listening')
    e.close()
    expect(fs.existsSync(path.join(dir, 'e.sock'))).toBe(false)
    const c = createSocket({ type: 'unix_dgram', unlinkOnClose: true })
    c.bind({ path: path.join(dir, 'c.sock'), unlinkOnClose: false })
    await once(c, 'listening')
    c.close()
    expect(fs.existsSync(path.join(dir, 'c.sock'))).toBe(true)
  })

  it("unlinkOnClose leaves a file that is no longer ours (replaced by another socket's)", async () => {
    const p = path.join(tempDir(), 'replaced.sock')
    const first = await bound(p, { unlinkOnClose: true })
    const second = await bound(p, { unlinkExisting: true })
    first.close()
    // The file now belongs to `second` and still works.
    expect(fs.lstatSync(p).isSocket()).toBe(true)
    const c = createSocket('unix_dgram')
    const got = once(second, 'message')
    c.send('second', p)
    expect(String((await got)[0])).toBe('second')
    c.close()
    second.close()
  })

  it.runIf(process.platform === 'linux')('mode never follows a symlink renamed over the fresh socket file (racer in another process)', async () => {
    const dir = tempDir()
    const sock = path.join(dir, 'raced.sock')
    const victim = path.join(dir, 'victim')
    fs.writeFileSync(victim, 'private', { mode: 0o600 })
    fs.chmodSync(victim, 0o600)
    // The attacker: renames a symlink to the victim over the socket's name as fast as it can.
    const racer = spawn(process.execPath, ['-e', `
      const fs = require('node:fs')
      const [sock, victim, tmp] = process.argv.slice(-3)
      const end = Date.now() + 20000
      process.stdout.write('ready\\n')
      for (let i = 0; Date.now() < end && i < 5e6; i++) {
        try { fs.symlinkSync(victim, tmp); fs.renameSync(tmp, sock) } catch {}
        try { fs.unlinkSync(tmp) } catch {}
      }`, sock, victim, path.join(dir, 'link.tmp')], { stdio: ['ignore', 'pipe', 'ignore'] })
    await new Promise((resolve) => racer.stdout!.once('data', resolve))
    const outcomes = { listening: 0, chmod: 0, bind: 0 }
    try {
      for (let i = 0; i < 2000; i++) {
        const s = createSocket('unix_dgram')
        const result = await new Promise<string>((resolve) => {
          s.once('listening', () => resolve('listening'))
          s.once('error', (e: NodeJS.ErrnoException) => resolve(e.syscall === 'chmod' ? 'chmod' : 'bind'))
          try {
            fs.rmSync(sock, { force: true })
          } catch {}
          s.bind({ path: sock, mode: 0o666 })
        })
        outcomes[result as keyof typeof outcomes]++
        s.close()
        expect(fs.statSync(victim).mode & 0o7777, `after ${i + 1} binds (${JSON.stringify(outcomes)})`).toBe(0o600)
      }
    } finally {
      racer.kill('SIGKILL')
    }
    expect(fs.readFileSync(victim, 'utf8')).toBe('private')
    expect(outcomes.listening + outcomes.chmod + outcomes.bind).toBe(2000)
  }, 60_000 * timeScale)

  it('unlinkOnClose removes the file it created even after process.chdir() (relative path)', async () => {
    const dir = tempDir()
    const elsewhere = tempDir()
    const script = `
      const fs = require('node:fs');
      process.chdir(${JSON.stringify(dir)});
      const s = dgram.createSocket({ type: 'unix_dgram', unlinkOnClose: true });
      s.bind('rel.sock', () => {
        process.chdir(${JSON.stringify(elsewhere)});
        s.close(() => {
          const left = fs.existsSync(${JSON.stringify(path.join(dir, 'rel.sock'))});
          process.chdir(${JSON.stringify(dir)});
          const again = dgram.createSocket('unix_dgram');
          again.on('error', (e) => { console.log(JSON.stringify({ left, again: e.code })); });
          again.bind({ path: 'rel.sock', unlinkOnClose: true }, () => { console.log(JSON.stringify({ left, again: 'bound' })); again.close(); });
        });
      });`
    const result = await runScript(script, 'dgramx')
    expect(result.stderr).toBe('')
    expect(JSON.parse(result.stdout)).toEqual({ left: false, again: 'bound' })
  })

  it('unlinkOnClose with an abstract name or autobind does nothing (there is no file)', async () => {
    const s = createSocket({ type: 'unix_dgram', unlinkOnClose: true })
    s.bind({ path: `@dgramx-files-${process.pid}` })
    await once(s, 'listening')
    s.close()
    const t = createSocket({ type: 'unix_dgram', unlinkOnClose: true })
    t.bind()
    await once(t, 'listening')
    t.close()
  })
})
