// node --require this file: every require('dgram') / require('node:dgram') in the process gets
// the module named by DGRAMX_DGRAM (an absolute path, our built facade) instead of node's. Used
// to run npm packages' own test suites against @dgramx/dgram without touching their code.
'use strict'
const Module = require('node:module')
const fs = require('node:fs')
const path = require('node:path')

const target = process.env.DGRAMX_DGRAM
if (!target || !fs.existsSync(target)) {
  throw new Error(`dgram-redirect: DGRAMX_DGRAM must name the built facade (got ${JSON.stringify(target)})`)
}
// The facade itself compares with node:dgram (DEP0112): its own requires get node's module.
const facadeDir = path.dirname(fs.realpathSync(target)) + path.sep
// Module._load, not _resolveFilename: node loads 'node:'-prefixed builtins before resolving.
const load = Module._load
Module._load = function (request, parent, isMain) {
  if ((request === 'dgram' || request === 'node:dgram') && !parent?.filename?.startsWith(facadeDir)) {
    return load.call(this, target, parent, isMain)
  }
  return load.apply(this, arguments)
}
