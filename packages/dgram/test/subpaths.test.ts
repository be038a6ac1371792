// The subpath exports (@dgramx/dgram/promises, /sd-notify, /syslog): resolvable by
// name from CommonJS and ESM, sharing the main entry's Socket class, typed, and in the tarball.
import { execFileSync } from 'node:child_process'
import fs from 'node:fs'
import path from 'node:path'
import { describe, expect, it } from 'vitest'
import { tempDir } from './harness'
import { timeScale } from './time-scale'

const pkgDir = path.resolve(__dirname, '..')
const pkg = JSON.parse(fs.readFileSync(path.join(pkgDir, 'package.json'), 'utf8'))
const subpaths = {
  promises: ['bind', 'messages', 'send'],
  'sd-notify': ['formatNotify', 'notify', 'notifySocket', 'watchdogUsec'],
  syslog: ['SyslogSender', 'createSyslog', 'defaultSyslogPaths', 'facilities', 'findSyslogSocket', 'formatSyslog', 'priority', 'severities'],
}

function consumer(): string {
  const dir = tempDir()
  fs.mkdirSync(path.join(dir, 'node_modules', '@dgramx'), { recursive: true })
  fs.symlinkSync(pkgDir, path.join(dir, 'node_modules', '@dgramx', 'dgram'), 'dir')
  return dir
}

function run(dir: string, args: string[], env: NodeJS.ProcessEnv = process.env): string {
  return execFileSync(process.execPath, args, { cwd: dir, encoding: 'utf8', timeout: 15_000 * timeScale, env })
}

describe('helper subpath exports', () => {
  for (const [name, names] of Object.entries(subpaths)) {
    it(`${name}: exports map with import/require conditions and types`, () => {
      expect(pkg.exports[`./${name}`]).toEqual({
        import: { types: `./dist/${name}.d.mts`, default: `./dist/${name}.mjs` },
        require: { types: `./dist/${name}.d.ts`, default: `./dist/${name}.js` },
      })
      expect(fs.existsSync(path.join(pkgDir, 'dist', `${name}.d.ts`))).toBe(true)
    })

    it(`${name}: require() and import by name give the same functions`, () => {
      const dir = consumer()
      fs.writeFileSync(
        path.join(dir, 'check.mjs'),
        `import * as esm from '@dgramx/dgram/${name}';
         import { createRequire } from 'node:module';
         const cjs = createRequire(import.meta.url)('@dgramx/dgram/${name}');
         const keys = Object.keys(esm).sort();
         console.log(JSON.stringify({ keys, cjsKeys: Object.keys(cjs).sort(), same: keys.every((k) => esm[k] === cjs[k]) }));`,
      )
      expect(JSON.parse(run(dir, ['check.mjs']))).toEqual({ keys: names, cjsKeys: names, same: true })
    })
  }

  it('the main entry: the default import and the named ones are the CommonJS build\'s (also under Bun, whose default import of CommonJS honours __esModule)', () => {
    const dir = consumer()
    fs.writeFileSync(
      path.join(dir, 'main.mjs'),
      `import dgram, * as esm from '@dgramx/dgram';
       import { createRequire } from 'node:module';
       const cjs = createRequire(import.meta.url)('@dgramx/dgram');
       console.log(JSON.stringify({
         defaultIsCjsDefault: dgram === cjs.default && typeof dgram.createSocket === 'function',
         named: ['createSocket', 'Socket', 'kNative', 'promises'].every((k) => esm[k] !== undefined && esm[k] === cjs[k]),
       }));`,
    )
    expect(JSON.parse(run(dir, ['main.mjs']))).toEqual({ defaultIsCjsDefault: true, named: true })
  })

  it('sd-notify through the ESM entry: a no-op without NOTIFY_SOCKET, a datagram with it', () => {
    const dir = consumer()
    const sock = path.join(tempDir(), 'notify.sock')
    fs.writeFileSync(
      path.join(dir, 'notify.mjs'),
      `import { createSocket } from '@dgramx/dgram';
       import { notify } from '@dgramx/dgram/sd-notify';
       import { once } from 'node:events';
       const unset = await notify({ ready: true });
       const s = createSocket('unix_dgram');
       s.bind(${JSON.stringify(sock)});
       await once(s, 'listening');
       process.env.NOTIFY_SOCKET = ${JSON.stringify(sock)};
       const got = once(s, 'message');
       const sent = await notify({ ready: true });
       const [msg] = await got;
       console.log(JSON.stringify([unset, sent, String(msg)]));
       s.close();`,
    )
    const env = { ...process.env }
    delete env.NOTIFY_SOCKET
    expect(JSON.parse(run(dir, ['notify.mjs'], env))).toEqual([false, true, 'READY=1'])
  })

  it('the tarball carries the helper entries', () => {
    const out = execFileSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], { cwd: pkgDir, encoding: 'utf8', timeout: 60_000 })
    const files: string[] = JSON.parse(out)[0].files.map((f: { path: string }) => f.path)
    for (const name of Object.keys(subpaths)) {
      for (const ext of ['.js', '.mjs', '.d.ts', '.d.mts']) expect(files).toContain(`dist/${name}${ext}`)
    }
  })
})
