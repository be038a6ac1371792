// Copies the binaries `napi build` left in native/ into their per-platform packages under
// npm/, so the package that would be published for this machine holds the binary just built
// (CI packs and installs it). Only files whose platform package exists are copied.
'use strict'
const fs = require('node:fs')
const path = require('node:path')

const nativeDir = path.join(__dirname, '..', 'native')
const npmDir = path.join(__dirname, '..', '..', '..', 'npm')

for (const file of fs.readdirSync(nativeDir)) {
  const match = /^dgram\.(.+)\.node$/.exec(file)
  if (!match) continue
  const target = path.join(npmDir, match[1])
  if (!fs.existsSync(path.join(target, 'package.json'))) {
    console.warn(`stage-npm: no npm/${match[1]} package for ${file}; not staged`)
    continue
  }
  fs.copyFileSync(path.join(nativeDir, file), path.join(target, file))
  console.log(`stage-npm: ${file} -> npm/${match[1]}/`)
}
