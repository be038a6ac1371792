// Checks each built binary against the package it goes into: object format and architecture
// (ELF machine, Mach-O CPU type, PE machine) against the package's os/cpu, and on Linux its C
// library against the package's libc (glibc packages need libc.so.6; musl packages need musl's
// libc and must not need libc.so.6). Windows binaries must not import the VC++ runtime DLLs
// (the CRT is linked statically, .cargo/config.toml). Reads the files itself: no readelf/file.
//
//   node scripts/verify-binaries.mjs [DIR...]   (default: npm/, i.e. npm/<tuple>/dgram.<tuple>.node)
// Every `dgram.<tuple>.node` under the given directories is checked; it fails if none is found.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const ELF_MACHINE = { x64: 62, arm64: 183, arm: 40 }
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c }
const PE_MACHINE = { x64: 0x8664, arm64: 0xaa64 }

function findBinaries(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules') findBinaries(p, out)
    } else if (/^dgram\.[a-z0-9-]+\.node$/.test(name)) out.push(p)
  }
  return out
}

/** DT_NEEDED entries of an ELF shared object (32- or 64-bit, little-endian). */
function elfNeeded(buf) {
  const is64 = buf[4] === 2
  const rd = (off, size) => (size === 8 ? Number(buf.readBigUInt64LE(off)) : size === 4 ? buf.readUInt32LE(off) : buf.readUInt16LE(off))
  const w = is64 ? 8 : 4
  const shoff = rd(is64 ? 0x28 : 0x20, w)
  const shentsize = rd(is64 ? 0x3a : 0x2e, 2)
  const shnum = rd(is64 ? 0x3c : 0x30, 2)
  const section = (i) => {
    const base = shoff + i * shentsize
    return { type: rd(base + 4, 4), offset: rd(base + (is64 ? 0x18 : 0x10), w), size: rd(base + (is64 ? 0x20 : 0x14), w), link: rd(base + (is64 ? 0x28 : 0x18), 4) }
  }
  const needed = []
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    if (s.type !== 6) continue // SHT_DYNAMIC
    const strtab = section(s.link)
    for (let off = s.offset; off + 2 * w <= s.offset + s.size; off += 2 * w) {
      const tag = rd(off, w)
      if (tag === 0) break
      if (tag === 1) {
        const start = strtab.offset + rd(off + w, w)
        needed.push(buf.toString('latin1', start, buf.indexOf(0, start)))
      }
    }
  }
  return needed
}

function check(file) {
  const tuple = /^dgram\.(.+)\.node$/.exec(path.basename(file))[1]
  const pkg = JSON.parse(readFileSync(path.join(root, 'npm', tuple, 'package.json'), 'utf8'))
  const [os] = pkg.os
  const [cpu] = pkg.cpu
  const libc = pkg.libc?.[0]
  const buf = readFileSync(file)
  const problems = []
  let info
  if (os === 'linux' || os === 'freebsd') {
    if (buf.readUInt32BE(0) !== 0x7f454c46) return [`${tuple}: not an ELF file`]
    const machine = buf.readUInt16LE(18)
    if (machine !== ELF_MACHINE[cpu]) problems.push(`ELF machine ${machine}, expected ${ELF_MACHINE[cpu]} (${cpu})`)
    const needed = elfNeeded(buf)
    info = `ELF ${buf[4] === 2 ? 64 : 32}-bit machine ${machine}, NEEDED ${needed.join(' ')}`
    const glibc = needed.includes('libc.so.6')
    const musl = needed.some((n) => n === 'libc.so' || n.startsWith('libc.musl-'))
    if (os === 'freebsd') {
      if (!needed.includes('libc.so.7')) problems.push('a FreeBSD binary must need libc.so.7')
    } else if (libc === 'glibc' && !glibc) problems.push('a glibc package must hold a binary that needs libc.so.6')
    else if (libc === 'musl' && (!musl || glibc)) problems.push("a musl package must hold a binary that needs musl's libc and not libc.so.6")
    else if (!libc) problems.push(`npm/${tuple}/package.json has no libc field`)
  } else if (os === 'darwin') {
    if (buf.readUInt32LE(0) !== 0xfeedfacf) return [`${tuple}: not a 64-bit Mach-O file`]
    const cpuType = buf.readUInt32LE(4)
    info = `Mach-O cputype 0x${cpuType.toString(16)}`
    if (cpuType !== MACHO_CPU[cpu]) problems.push(`Mach-O cputype 0x${cpuType.toString(16)}, expected ${cpu}`)
  } else if (os === 'win32') {
    if (buf.toString('latin1', 0, 2) !== 'MZ') return [`${tuple}: not a PE file`]
    const pe = buf.readUInt32LE(0x3c)
    const machine = buf.readUInt16LE(pe + 4)
    info = `PE machine 0x${machine.toString(16)}`
    if (machine !== PE_MACHINE[cpu]) problems.push(`PE machine 0x${machine.toString(16)}, expected ${cpu}`)
    const text = buf.toString('latin1').toLowerCase()
    for (const dll of ['vcruntime140.dll', 'msvcp140.dll', 'api-ms-win-crt-']) {
      if (text.includes(dll)) problems.push(`imports ${dll}: the C runtime is not linked statically`)
    }
  } else problems.push(`unknown os ${os}`)
  return { tuple, info, problems }
}

const dirs = process.argv.slice(2).length ? process.argv.slice(2) : [path.join(root, 'npm')]
const files = dirs.flatMap((d) => findBinaries(path.resolve(d)))
if (files.length === 0) {
  console.error(`verify-binaries: no dgram.<tuple>.node under ${dirs.join(', ')}`)
  process.exit(1)
}
let failed = 0
for (const file of files) {
  const r = check(file)
  if (Array.isArray(r)) {
    failed++
    console.log(`FAIL ${r.join('; ')}`)
  } else if (r.problems.length) {
    failed++
    console.log(`FAIL ${r.tuple}: ${r.problems.join('; ')} (${r.info})`)
  } else console.log(`ok   ${r.tuple}: ${r.info}`)
}
console.log(`verify-binaries: ${files.length - failed} passed, ${failed} failed`)
process.exit(failed ? 1 : 0)
