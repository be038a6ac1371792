// The chart: throughput of each library as a fraction of the syscall ceiling, row by row as in
// the table, and round-trip p50 per socket kind. Drawn as SVG by hand; converted to PNG with
// @resvg/resvg-js (a prebuilt napi-rs package) when it loads.

import { createRequire } from 'node:module'
import { rows } from './report.mjs'

const require = createRequire(import.meta.url)
const COLORS = { ours: '#1f77b4', node: '#ff7f0e', 'unix-dgram': '#2ca02c', 'node-unix-socket': '#9467bd', ceiling: '#7f7f7f' }
const esc = (s) => String(s).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;')

export async function renderChart(r) {
  const W = 1100
  const left = 330
  const barH = 9
  const plotW = W - left - 40
  const parts = []
  let y = 70
  const table = rows(r)
  const value = (row, x) => (row.unit === 'bytes' ? x?.bytesRate : x?.rate)
  // Scale: 0 … max(1.2, largest ratio), so the ceiling line sits at a fixed place.
  let maxRatio = 1.2
  for (const row of table) {
    const c = value(row, row.ceiling)
    if (!c) continue
    for (const x of [row.ours, row.node, ...row.others.filter(([n]) => !n.includes('ceiling') && !n.startsWith('ours')).map(([, v]) => v)]) {
      const v = value(row, x)
      if (v) maxRatio = Math.max(maxRatio, Math.min(v / c, 3))
    }
  }
  const sx = (ratio) => left + (Math.min(ratio, maxRatio) / maxRatio) * plotW
  parts.push(`<text x="20" y="30" font-size="20" font-weight="bold">dgramx benchmark: throughput ÷ syscall ceiling (same run)</text>`)
  parts.push(`<text x="20" y="52" font-size="12" fill="#444">${esc(`${r.machine.cpu}, ${r.machine.cores} cores, ${r.machine.kernel}, Node ${r.machine.node}, ${r.machine.date.slice(0, 10)}${r.config.quick ? ' (quick run)' : ''}`)}</text>`)
  const top = y
  for (const row of table) {
    const c = value(row, row.ceiling)
    const series = [['ours', row.ours], ['node', row.node], ...row.others.filter(([n]) => n === 'unix-dgram' || n === 'node-unix-socket')]
      .filter(([, x]) => value(row, x) !== undefined)
    const label = `${row.setting === 'recv' ? 'recv' : row.setting} ${row.kind} ${row.size === 8192 ? '8K' : row.size} · ${row.what}`
    const h = Math.max(series.length, 1) * (barH + 2) + 8
    parts.push(`<text x="${left - 8}" y="${y + h / 2 + 3}" font-size="11" text-anchor="end">${esc(label)}</text>`)
    let by = y + 4
    for (const [name, x] of series) {
      const v = value(row, x)
      const ratio = c ? v / c : 0
      parts.push(`<rect x="${left}" y="${by}" width="${Math.max(sx(ratio) - left, 1)}" height="${barH}" fill="${COLORS[name]}"/>`)
      parts.push(`<text x="${sx(ratio) + 4}" y="${by + barH - 1}" font-size="9" fill="#333">${ratio.toFixed(2)}</text>`)
      by += barH + 2
    }
    parts.push(`<line x1="${left}" x2="${W - 20}" y1="${y + h}" y2="${y + h}" stroke="#eee"/>`)
    y += h
  }
  for (let t = 0; t <= maxRatio + 1e-9; t += maxRatio > 2 ? 0.5 : 0.25) {
    parts.push(`<line x1="${sx(t)}" x2="${sx(t)}" y1="${top}" y2="${y}" stroke="${t === 1 ? '#555' : '#ddd'}" stroke-dasharray="${t === 1 ? '4 3' : '2 3'}"/>`)
    parts.push(`<text x="${sx(t)}" y="${y + 14}" font-size="10" text-anchor="middle">${t.toFixed(2)}</text>`)
  }
  parts.push(`<text x="${sx(1)}" y="${top - 6}" font-size="10" text-anchor="middle" fill="#555">ceiling = 1</text>`)
  y += 40
  // Round trip p50.
  parts.push(`<text x="20" y="${y}" font-size="16" font-weight="bold">Round trip p50, 64 B (µs, lower is better)</text>`)
  y += 14
  const rtt = []
  for (const kind of ['udp4', 'udp6', 'unix_dgram']) {
    for (const impl of ['ours', 'node', 'unix-dgram', 'node-unix-socket', 'ceiling']) {
      const x = r.results[`rtt|${kind}|64|${impl}`]
      if (x) rtt.push([kind, impl, x.p50])
    }
  }
  const maxUs = Math.max(1, ...rtt.map(([, , v]) => v))
  for (const [kind, impl, v] of rtt) {
    parts.push(`<text x="${left - 8}" y="${y + barH}" font-size="11" text-anchor="end">${esc(`${kind} · ${impl === 'node' ? 'node:dgram' : impl}`)}</text>`)
    parts.push(`<rect x="${left}" y="${y + 1}" width="${Math.max((v / maxUs) * plotW * 0.8, 1)}" height="${barH}" fill="${COLORS[impl]}"/>`)
    parts.push(`<text x="${left + (v / maxUs) * plotW * 0.8 + 4}" y="${y + barH}" font-size="9">${v.toFixed(1)}</text>`)
    y += barH + 4
  }
  y += 20
  let lx = 20
  for (const [name, color] of Object.entries(COLORS)) {
    parts.push(`<rect x="${lx}" y="${y - 9}" width="10" height="10" fill="${color}"/><text x="${lx + 14}" y="${y}" font-size="11">${name === 'ours' ? '@dgramx/dgram' : name === 'node' ? 'node:dgram' : name}</text>`)
    lx += 170
  }
  y += 20
  const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="DejaVu Sans, Arial, sans-serif"><rect width="100%" height="100%" fill="white"/>${parts.join('')}</svg>\n`
  let png = null
  try {
    const { Resvg } = require('@resvg/resvg-js')
    png = new Resvg(svg, { fitTo: { mode: 'width', value: W }, font: { loadSystemFonts: true, defaultFontFamily: 'DejaVu Sans' } }).render().asPng()
  } catch (err) {
    console.log(`! PNG rendering failed: ${err.message}`)
  }
  return { svg, png }
}
