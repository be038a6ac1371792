'use strict'
// Preloaded (node -r) into unix-dgram's own test files: their `require('../lib/unix_dgram')`
// resolves to @dgramx/unix-dgram (UNIX_DGRAM_COMPAT, an absolute path) instead. The test files
// and unix-dgram's lib/ stay as shipped.
const Module = require('node:module')
const path = require('node:path')

const target = process.env.UNIX_DGRAM_COMPAT
if (!target) throw new Error('UNIX_DGRAM_COMPAT is not set (the path of @dgramx/unix-dgram)')
const original = Module._resolveFilename
Module._resolveFilename = function resolveFilename(request, parent, ...rest) {
  const resolved = original.call(this, request, parent, ...rest)
  if (path.basename(resolved) === 'unix_dgram.js' && path.basename(path.dirname(resolved)) === 'lib') return original.call(this, target, parent, ...rest)
  return resolved
}

// A test that passes without having loaded our package proves nothing.
process.on('exit', (code) => {
  if (code === 0 && !Object.keys(require.cache).includes(require.resolve(target))) {
    console.error(`unix-dgram-compat-shim: ${target} was never loaded`)
    process.exitCode = 1
  }
})
