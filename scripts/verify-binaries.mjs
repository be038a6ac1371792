// Checks each built binary against the package it goes into, reading the files itself (no
// readelf/otool/objdump here or on a CI runner):
//   - object format, class and architecture (ELF machine, Mach-O CPU type, PE machine) against
//     the package's os/cpu; ELF OS ABI (FreeBSD binaries must say FreeBSD); armv7 hard-float;
//   - Linux C library against the package's libc (glibc packages need libc.so.6; musl packages
//     need musl's libc and not libc.so.6); FreeBSD's libc.so.7;
//   - Node-API: the binary exports napi_register_module_v1, and on ELF and Mach-O it leaves the
//     napi_* functions undefined for the host process to provide (on Mach-O through dynamic
//     lookup, the `-undefined dynamic_lookup` napi-build links with). Windows binaries import
//     nothing from node.exe (napi-sys finds Node-API in the host process at load time), so they
//     load under any host executable's name;
//   - Windows: no VC++ runtime DLL (vcruntime/msvcp), and for the published msvc packages no
//     Universal CRT DLL either (the CRT is linked statically, .cargo/config.toml);
//   - darwin-arm64: an (ad-hoc) code signature, without which Apple silicon refuses to load it.
// With --release it also holds the binaries to what a release promises: glibc binaries need
// at most GLIBC_2.17 (the floor scripts/build-target.sh links against, as napi-rs's own
// toolchain does) and darwin ones run on macOS 10.13 (x64) / 11.0 (arm64). A development build
// (`pnpm run build:native`) links against this machine's glibc, so that is not held to it.
//
//   node scripts/verify-binaries.mjs [--release] [DIR...]
// DIR defaults to npm/ (npm/<tuple>/dgram.<tuple>.node); scripts/build-target.sh's output is
// target/release-targets. Every `dgram.<tuple>.node` under the directories is checked; it fails
// if none is found. A tuple with no npm/<tuple> package fails, unless it is a known stand-in:
//   win32-x64-gnu  the x86_64-pc-windows-gnu build that runs the Windows code path under Wine in
//                  place of win32-x64-msvc; checked as a PE x86-64 DLL, never published.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs'
import path from 'node:path'
import { fileURLToPath, pathToFileURL } from 'node:url'

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..')

const ELF_MACHINE = { x64: 62, arm64: 183, arm: 40 }
const ELF_CLASS = { x64: 2, arm64: 2, arm: 1 }
const ELFOSABI_FREEBSD = 9
const EF_ARM_ABI_FLOAT_HARD = 0x400
const MACHO_CPU = { x64: 0x01000007, arm64: 0x0100000c }
const PE_MACHINE = { x64: 0x8664, arm64: 0xaa64 }
export const GLIBC_FLOOR = '2.17'
const MACOS_FLOOR = { x64: '10.13', arm64: '11.0' }

/** Binaries that have no npm package of their own but are built and checked here. */
export const STAND_INS = {
  'win32-x64-gnu': { os: 'win32', cpu: 'x64', standInFor: 'win32-x64-msvc', ucrt: true },
}

export function findBinaries(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = path.join(dir, name)
    if (statSync(p).isDirectory()) {
      if (name !== 'node_modules' && !name.startsWith('.')) findBinaries(p, out)
    } else if (/^dgram\.[a-z0-9-]+\.node$/.test(name)) out.push(p)
  }
  return out
}

const cstr = (buf, start) => buf.toString('latin1', start, buf.indexOf(0, start))
const versionCmp = (a, b) => {
  const pa = a.split('.').map(Number)
  const pb = b.split('.').map(Number)
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0)
    if (d) return d
  }
  return 0
}
const maxVersion = (versions) => versions.reduce((m, v) => (m === null || versionCmp(v, m) > 0 ? v : m), null)

/** DT_NEEDED entries, dynamic symbols and required symbol versions of an ELF shared object. */
export function parseElf(buf) {
  const is64 = buf[4] === 2
  const rd = (off, size) => (size === 8 ? Number(buf.readBigUInt64LE(off)) : size === 4 ? buf.readUInt32LE(off) : size === 2 ? buf.readUInt16LE(off) : buf[off])
  const w = is64 ? 8 : 4
  const shoff = rd(is64 ? 0x28 : 0x20, w)
  const shentsize = rd(is64 ? 0x3a : 0x2e, 2)
  const shnum = rd(is64 ? 0x3c : 0x30, 2)
  const section = (i) => {
    const base = shoff + i * shentsize
    return {
      type: rd(base + 4, 4),
      offset: rd(base + (is64 ? 0x18 : 0x10), w),
      size: rd(base + (is64 ? 0x20 : 0x14), w),
      link: rd(base + (is64 ? 0x28 : 0x18), 4),
      info: rd(base + (is64 ? 0x2c : 0x1c), 4),
    }
  }
  const needed = []
  const defined = new Set()
  const undefinedSyms = new Set()
  const versions = {} // library -> [version names]
  for (let i = 0; i < shnum; i++) {
    const s = section(i)
    if (s.type === 6) {
      // SHT_DYNAMIC
      const strtab = section(s.link)
      for (let off = s.offset; off + 2 * w <= s.offset + s.size; off += 2 * w) {
        const tag = rd(off, w)
        if (tag === 0) break
        if (tag === 1) needed.push(cstr(buf, strtab.offset + rd(off + w, w)))
      }
    } else if (s.type === 11) {
      // SHT_DYNSYM
      const strtab = section(s.link)
      const entsize = is64 ? 24 : 16
      for (let off = s.offset + entsize; off + entsize <= s.offset + s.size; off += entsize) {
        const name = cstr(buf, strtab.offset + rd(off, 4))
        const shndx = rd(off + (is64 ? 6 : 14), 2)
        ;(shndx === 0 ? undefinedSyms : defined).add(name)
      }
    } else if (s.type === 0x6ffffffe) {
      // SHT_GNU_verneed: Elf_Verneed { vn_version, vn_cnt, vn_file, vn_aux, vn_next }
      const strtab = section(s.link)
      let vn = s.offset
      for (let n = 0; n < s.info; n++) {
        const file = cstr(buf, strtab.offset + rd(vn + 4, 4))
        let aux = vn + rd(vn + 8, 4)
        for (let k = 0; k < rd(vn + 2, 2); k++) {
          ;(versions[file] ??= []).push(cstr(buf, strtab.offset + rd(aux + 8, 4)))
          aux += rd(aux + 12, 4)
        }
        vn += rd(vn + 12, 4)
      }
    }
  }
  return { needed, defined, undefinedSyms, versions }
}

/** Load commands, symbols and dylibs of a 64-bit little-endian Mach-O file. */
export function parseMachO(buf) {
  const ncmds = buf.readUInt32LE(16)
  const flags = buf.readUInt32LE(24)
  let off = 32
  const out = { filetype: buf.readUInt32LE(12), twoLevel: (flags & 0x80) !== 0, dylibs: [], signed: false, minos: null, defined: new Set(), undefinedSyms: new Map(), bindOrdinals: {} }
  const ver = (v) => `${v >>> 16}.${(v >>> 8) & 0xff}`
  for (let i = 0; i < ncmds; i++) {
    const cmd = buf.readUInt32LE(off) & 0x7fffffff
    const size = buf.readUInt32LE(off + 4)
    if (cmd === 0x2) {
      // LC_SYMTAB: nlist_64 { n_strx u32, n_type u8, n_sect u8, n_desc u16, n_value u64 }
      const symoff = buf.readUInt32LE(off + 8)
      const nsyms = buf.readUInt32LE(off + 12)
      const stroff = buf.readUInt32LE(off + 16)
      for (let k = 0; k < nsyms; k++) {
        const e = symoff + k * 16
        const type = buf[e + 4]
        if (type & 0xe0 || !(type & 0x01)) continue // debug entries; not external
        const name = cstr(buf, stroff + buf.readUInt32LE(e))
        if ((type & 0x0e) === 0) out.undefinedSyms.set(name, (buf.readUInt16LE(e + 6) >> 8) & 0xff)
        else out.defined.add(name)
      }
    } else if (cmd === 0xc || cmd === 0x18 || cmd === 0x1f) {
      out.dylibs.push(cstr(buf, off + buf.readUInt32LE(off + 8))) // LC_(WEAK_|REEXPORT_)LOAD_DYLIB
    } else if (cmd === 0x1d) out.signed = true // LC_CODE_SIGNATURE
    else if (cmd === 0x22) Object.assign(out.bindOrdinals, dyldInfoOrdinals(buf, off)) // LC_DYLD_INFO_ONLY
    else if (cmd === 0x34) Object.assign(out.bindOrdinals, chainedFixupOrdinals(buf, buf.readUInt32LE(off + 8))) // LC_DYLD_CHAINED_FIXUPS
    else if (cmd === 0x32) out.minos = ver(buf.readUInt32LE(off + 12)) // LC_BUILD_VERSION
    else if (cmd === 0x24) out.minos = ver(buf.readUInt32LE(off + 8)) // LC_VERSION_MIN_MACOSX
    off += size
  }
  return out
}

function uleb(buf, pos) {
  let value = 0
  let shift = 0
  let byte
  do {
    byte = buf[pos.at++]
    value += (byte & 0x7f) * 2 ** shift
    shift += 7
  } while (byte & 0x80)
  return value
}

// The library each symbol binds to, as dyld sees it: -2 is BIND_SPECIAL_DYLIB_FLAT_LOOKUP
// (what -undefined dynamic_lookup gives), positive numbers index the LC_LOAD_DYLIBs.
const FLAT_LOOKUP = -2
const signedOrdinal = (imm) => (imm ? imm | ~0xf : 0)

/** Symbol -> library ordinal from the bind, weak-bind and lazy-bind opcode streams. */
function dyldInfoOrdinals(buf, cmdOff) {
  const out = {}
  for (const field of [16, 32]) {
    // bind_off/size at +16, lazy_bind_off/size at +32 (weak binds name no library)
    const start = buf.readUInt32LE(cmdOff + field)
    const end = start + buf.readUInt32LE(cmdOff + field + 4)
    const pos = { at: start }
    let ordinal = 0
    let symbol = null
    while (pos.at < end) {
      const byte = buf[pos.at++]
      const op = byte & 0xf0
      const imm = byte & 0x0f
      if (op === 0x10) ordinal = imm
      else if (op === 0x20) ordinal = uleb(buf, pos)
      else if (op === 0x30) ordinal = signedOrdinal(imm)
      else if (op === 0x40) {
        symbol = cstr(buf, pos.at)
        pos.at += Buffer.byteLength(symbol, 'latin1') + 1
      } else if (op === 0x60 || op === 0x70 || op === 0x80 || op === 0xa0) uleb(buf, pos)
      else if (op === 0xc0) {
        uleb(buf, pos)
        uleb(buf, pos)
      } else if (op === 0xd0 && imm === 0) uleb(buf, pos)
      if ((op === 0x90 || op === 0xa0 || op === 0xb0 || op === 0xc0) && symbol !== null) out[symbol] = ordinal
    }
  }
  return out
}

/** Symbol -> library ordinal from the imports table of LC_DYLD_CHAINED_FIXUPS. */
function chainedFixupOrdinals(buf, dataOff) {
  const out = {}
  const importsOff = dataOff + buf.readUInt32LE(dataOff + 8)
  const symbolsOff = dataOff + buf.readUInt32LE(dataOff + 12)
  const count = buf.readUInt32LE(dataOff + 16)
  const format = buf.readUInt32LE(dataOff + 20)
  const size = format === 1 ? 4 : format === 2 ? 8 : 16
  for (let i = 0; i < count; i++) {
    const e = importsOff + i * size
    const raw = format === 3 ? buf.readUInt16LE(e) : buf[e]
    const ordinal = format === 3 ? (raw << 16) >> 16 : (raw << 24) >> 24
    // formats 1 and 2: lib_ordinal:8 weak:1 name_offset:23 (2 adds an addend); 3: lib_ordinal:16 weak:1 reserved:15 name_offset:32
    const nameOff = format === 3 ? buf.readUInt32LE(e + 4) : buf.readUInt32LE(e) >>> 9
    out[cstr(buf, symbolsOff + nameOff)] = ordinal
  }
  return out
}

/** Headers, exported names and imported DLLs of a PE file. */
export function parsePe(buf) {
  const pe = buf.readUInt32LE(0x3c)
  if (buf.toString('latin1', pe, pe + 4) !== 'PE\0\0') throw new Error('no PE signature')
  const machine = buf.readUInt16LE(pe + 4)
  const nsections = buf.readUInt16LE(pe + 6)
  const optSize = buf.readUInt16LE(pe + 20)
  const characteristics = buf.readUInt16LE(pe + 22)
  const opt = pe + 24
  const pe32plus = buf.readUInt16LE(opt) === 0x20b
  const dirs = opt + (pe32plus ? 112 : 96)
  const sections = []
  for (let i = 0; i < nsections; i++) {
    const s = opt + optSize + i * 40
    sections.push({ va: buf.readUInt32LE(s + 12), size: Math.max(buf.readUInt32LE(s + 8), buf.readUInt32LE(s + 16)), raw: buf.readUInt32LE(s + 20) })
  }
  const at = (rva) => {
    const s = sections.find((x) => rva >= x.va && rva < x.va + x.size)
    if (!s) throw new Error(`RVA 0x${rva.toString(16)} is in no section`)
    return rva - s.va + s.raw
  }
  const exports = []
  const expRva = buf.readUInt32LE(dirs)
  if (expRva) {
    const e = at(expRva)
    const names = at(buf.readUInt32LE(e + 32))
    for (let i = 0; i < buf.readUInt32LE(e + 24); i++) exports.push(cstr(buf, at(buf.readUInt32LE(names + 4 * i))))
  }
  const imports = []
  const impRva = buf.readUInt32LE(dirs + 8)
  if (impRva) {
    for (let d = at(impRva); buf.readUInt32LE(d + 12) !== 0; d += 20) imports.push(cstr(buf, at(buf.readUInt32LE(d + 12))).toLowerCase())
  }
  return { machine, dll: (characteristics & 0x2000) !== 0, pe32plus, exports, imports }
}

/** What a tuple's binary must be: its npm package's os/cpu/libc, or a known stand-in's. */
export function expectationFor(tuple, npmDir = path.join(root, 'npm')) {
  const pkgPath = path.join(npmDir, tuple, 'package.json')
  if (existsSync(pkgPath)) {
    const pkg = JSON.parse(readFileSync(pkgPath, 'utf8'))
    return { os: pkg.os?.[0], cpu: pkg.cpu?.[0], libc: pkg.libc?.[0], published: true }
  }
  if (STAND_INS[tuple]) return { ...STAND_INS[tuple], published: false }
  return null
}

export function check(file, { release = false, npmDir } = {}) {
  const tuple = /^dgram\.(.+)\.node$/.exec(path.basename(file))[1]
  const want = expectationFor(tuple, npmDir)
  if (!want) return { tuple, info: '', problems: [`no npm/${tuple} package, and not a known stand-in (${Object.keys(STAND_INS).join(', ')})`] }
  const { os, cpu, libc } = want
  const buf = readFileSync(file)
  const problems = []
  const notes = []
  if (want.standInFor) notes.push(`stand-in for ${want.standInFor}, not published`)
  if (os === 'linux' || os === 'freebsd') {
    if (buf.length < 64 || buf.readUInt32BE(0) !== 0x7f454c46) return { tuple, info: '', problems: ['not an ELF file'] }
    const cls = buf[4]
    const osabi = buf[7]
    const machine = buf.readUInt16LE(18)
    const eflags = buf.readUInt32LE(cls === 2 ? 0x30 : 0x24)
    if (cls !== ELF_CLASS[cpu]) problems.push(`ELF ${cls === 2 ? 64 : 32}-bit, expected ${ELF_CLASS[cpu] === 2 ? 64 : 32}-bit (${cpu})`)
    if (machine !== ELF_MACHINE[cpu]) problems.push(`ELF machine ${machine}, expected ${ELF_MACHINE[cpu]} (${cpu})`)
    if (buf.readUInt16LE(16) !== 3) problems.push('not a shared object (ET_DYN)')
    if (cpu === 'arm' && !(eflags & EF_ARM_ABI_FLOAT_HARD)) problems.push('armv7 binary is not hard-float (gnueabihf)')
    const elf = parseElf(buf)
    const libcVersions = (lib, prefix) => (elf.versions[lib] ?? []).filter((v) => v.startsWith(prefix)).map((v) => v.slice(prefix.length))
    notes.push(`ELF ${cls === 2 ? 64 : 32}-bit machine ${machine} OS ABI ${osabi}`, `NEEDED ${elf.needed.join(' ')}`)
    if (os === 'freebsd') {
      // FreeBSD's rtld does not read a shared object's EI_OSABI (lld writes FreeBSD there, zig
      // leaves it 0), so the FreeBSD identity is libc.so.7 and its FBSD_* symbol versions.
      if (osabi !== ELFOSABI_FREEBSD && osabi !== 0) problems.push(`ELF OS ABI ${osabi}, expected ${ELFOSABI_FREEBSD} (FreeBSD) or 0`)
      if (!elf.needed.includes('libc.so.7')) problems.push('a FreeBSD binary must need libc.so.7')
      const fbsd = maxVersion(libcVersions('libc.so.7', 'FBSD_'))
      if (fbsd) notes.push(`needs FBSD_${fbsd}`)
      else problems.push("needs no FBSD_* symbol version of libc.so.7: not linked against FreeBSD's libc")
      if (elf.needed.includes('libc.so.6')) problems.push('a FreeBSD binary that needs glibc')
    } else {
      if (osabi === ELFOSABI_FREEBSD) problems.push('a Linux binary with the FreeBSD OS ABI')
      const glibc = elf.needed.includes('libc.so.6')
      const musl = elf.needed.some((n) => n === 'libc.so' || n.startsWith('libc.musl-'))
      if (libc === 'glibc') {
        if (!glibc) problems.push('a glibc package must hold a binary that needs libc.so.6')
        const need = maxVersion(libcVersions('libc.so.6', 'GLIBC_').filter((v) => /^[0-9.]+$/.test(v)))
        notes.push(`needs GLIBC_${need}`)
        if (release && need && versionCmp(need, GLIBC_FLOOR) > 0) problems.push(`needs GLIBC_${need}, more than the release floor GLIBC_${GLIBC_FLOOR}`)
      } else if (libc === 'musl') {
        if (!musl || glibc) problems.push("a musl package must hold a binary that needs musl's libc and not libc.so.6")
      } else problems.push(`npm/${tuple}/package.json has no libc field`)
    }
    if (!elf.defined.has('napi_register_module_v1')) problems.push('does not export napi_register_module_v1')
    const napiUndef = [...elf.undefinedSyms].filter((n) => n.startsWith('napi_'))
    const napiDefined = [...elf.defined].filter((n) => n.startsWith('napi_') && n !== 'napi_register_module_v1')
    if (napiUndef.length === 0) problems.push('imports no napi_* symbol from the host')
    if (napiDefined.length) problems.push(`defines Node-API functions itself: ${napiDefined.slice(0, 3).join(', ')}`)
    notes.push(`${napiUndef.length} napi_* from the host`)
  } else if (os === 'darwin') {
    if (buf.length < 32 || buf.readUInt32LE(0) !== 0xfeedfacf) return { tuple, info: '', problems: ['not a 64-bit little-endian Mach-O file'] }
    const cpuType = buf.readUInt32LE(4)
    if (cpuType !== MACHO_CPU[cpu]) problems.push(`Mach-O cputype 0x${cpuType.toString(16)}, expected ${cpu}`)
    const m = parseMachO(buf)
    if (m.filetype !== 6) problems.push(`Mach-O filetype ${m.filetype}, expected MH_DYLIB (6)`)
    notes.push(`Mach-O cputype 0x${cpuType.toString(16)} minos ${m.minos}`, `dylibs ${m.dylibs.join(' ')}`)
    if (!m.defined.has('_napi_register_module_v1')) problems.push('does not export napi_register_module_v1')
    const napi = [...m.undefinedSyms].filter(([n]) => n.startsWith('_napi_'))
    if (napi.length === 0) problems.push('imports no napi_* symbol from the host')
    // A two-level namespace binds each undefined symbol to one dylib; Node-API and libuv live
    // in the host executable, so theirs must be flat lookups (-undefined dynamic_lookup).
    const fromHost = [...m.undefinedSyms.keys()].filter((n) => /^_(napi|uv)_/.test(n))
    const notFlat = m.twoLevel ? fromHost.filter((n) => m.bindOrdinals[n] !== FLAT_LOOKUP) : []
    if (notFlat.length) problems.push(`host symbols not bound by flat lookup: ${notFlat.slice(0, 3).map((n) => `${n} (${m.bindOrdinals[n] ?? 'unbound'})`).join(', ')}`)
    notes.push(`${napi.length} napi_* by dynamic lookup`)
    if (cpu === 'arm64' && !m.signed) problems.push('no code signature: Apple silicon will not load it')
    if (release && m.minos && versionCmp(m.minos, MACOS_FLOOR[cpu]) > 0) problems.push(`needs macOS ${m.minos}, more than ${MACOS_FLOOR[cpu]}`)
  } else if (os === 'win32') {
    if (buf.length < 64 || buf.toString('latin1', 0, 2) !== 'MZ') return { tuple, info: '', problems: ['not a PE file'] }
    let p
    try {
      p = parsePe(buf)
    } catch (e) {
      return { tuple, info: '', problems: [`malformed PE: ${e.message}`] }
    }
    notes.push(`PE machine 0x${p.machine.toString(16)}`, `imports ${p.imports.join(' ')}`)
    if (p.machine !== PE_MACHINE[cpu]) problems.push(`PE machine 0x${p.machine.toString(16)}, expected ${cpu}`)
    if (!p.dll || !p.pe32plus) problems.push('not a 64-bit DLL')
    if (!p.exports.includes('napi_register_module_v1')) problems.push('does not export napi_register_module_v1')
    for (const dll of p.imports) {
      if (/^(vcruntime|msvcp)\d+.*\.dll$/.test(dll)) problems.push(`imports ${dll}: needs the VC++ redistributable`)
      if (!want.ucrt && (dll.startsWith('api-ms-win-crt-') || dll === 'ucrtbase.dll')) problems.push(`imports ${dll}: the C runtime is not linked statically`)
      if (dll === 'node.exe' || dll === 'node.dll' || dll === 'libnode.dll') problems.push(`imports ${dll}: Node-API must come from the host process at load time`)
    }
  } else problems.push(`unknown os ${os}`)
  return { tuple, info: notes.join('; '), problems }
}

function main(argv) {
  const release = argv.includes('--release')
  const args = argv.filter((a) => a !== '--release')
  const dirs = args.length ? args : [path.join(root, 'npm')]
  const files = dirs.flatMap((d) => findBinaries(path.resolve(d)))
  if (files.length === 0) {
    console.error(`verify-binaries: no dgram.<tuple>.node under ${dirs.join(', ')}`)
    return 1
  }
  let failed = 0
  for (const file of files) {
    const r = check(file, { release })
    if (r.problems.length) {
      failed++
      console.log(`FAILED ${r.tuple}: ${r.problems.join('; ')}${r.info ? ` (${r.info})` : ''}`)
    } else console.log(`ok     ${r.tuple}: ${r.info}`)
  }
  console.log(`verify-binaries: ${files.length - failed} passed, ${failed} failed`)
  return failed ? 1 : 0
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) process.exitCode = main(process.argv.slice(2))
