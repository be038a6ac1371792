// Tables and goals from one run's results (see run.mjs for what each setting measures).

const SETTING = { recv: 'receive capacity', send: 'send-only', e2e: 'end to end', rtt: 'round trip' }
const PEERS = ['unix-dgram', 'node-unix-socket']

const get = (r, setting, kind, size, impl) => r.results[`${setting}|${kind}|${size}|${impl}`]
const rate = (x) => x?.rate
const fmtRate = (v) => (v === undefined || Number.isNaN(v) ? '–' : v >= 1e6 ? `${(v / 1e6).toFixed(2)} M/s` : `${(v / 1e3).toFixed(0)} k/s`)
const fmtBytes = (v) => (v === undefined || Number.isNaN(v) ? '–' : `${(v / 1e9).toFixed(2)} GB/s`)
const fmtRatio = (a, b) => (a === undefined || b === undefined || !b || Number.isNaN(a) || Number.isNaN(b) ? '–' : `${(a / b).toFixed(2)}×`)
const fmtUs = (v) => (v === undefined || Number.isNaN(v) ? '–' : `${v.toFixed(1)} µs`)
const mb = (b) => `${(b / 2 ** 20).toFixed(1)} MB`

/**
 * The rows of the table: each names which measurement is "ours", which is node:dgram's and
 * which is the ceiling, plus any other libraries on the same footing.
 */
export function rows(r) {
  const out = []
  const sizes = (kind) => (kind === 'unix_dgram' ? [64, 1400, 8192] : [64, 1400])
  for (const setting of ['recv', 'send', 'e2e']) {
    for (const kind of ['udp4', 'udp6', 'unix_dgram']) {
      const udp = kind !== 'unix_dgram'
      for (const size of sizes(kind)) {
        const g = (impl) => get(r, setting, kind, size, impl)
        const others = udp ? [] : PEERS.map((p) => [p, g(p)]).filter(([, v]) => v)
        if (setting === 'recv') {
          out.push({ setting, kind, size, what: "'message' per datagram", unit: 'rate', ours: g('ours'), node: g('node'), ceiling: g('ceiling'), ceilingName: 'recvmmsg', others: [['recvfrom ceiling', g('ceiling-recvfrom')], ...others] })
          out.push({ setting, kind, size, what: "'messages' batches", unit: 'rate', ours: g('ours-batch'), node: g('node'), ceiling: g('ceiling'), ceilingName: 'recvmmsg', others: [] })
        } else if (setting === 'send') {
          out.push({ setting, kind, size, what: 'send() per datagram', unit: 'rate', ours: g('ours'), node: g('node'), ceiling: g('ceiling-sendto'), ceilingName: 'sendto', others })
          if (udp) {
            out.push({ setting, kind, size, what: 'sendMany() batch', unit: 'rate', ours: g('ours-many'), node: g('node'), ceiling: g('ceiling'), ceilingName: 'sendmmsg', others: [] })
            out.push({ setting, kind, size, what: 'sendMany() with GSO', unit: 'bytes', ours: g('ours-gso'), node: g('node'), ceiling: g('ceiling-gso'), ceilingName: 'UDP_SEGMENT', others: [] })
          } else {
            out.push({ setting, kind, size, what: 'sendmmsg ceiling', unit: 'rate', ours: g('ours'), node: undefined, ceiling: g('ceiling'), ceilingName: 'sendmmsg', others: [] })
          }
        } else {
          out.push({ setting, kind, size, what: udp ? 'sendMany() → message' : 'send() → message', unit: 'rate', ours: g('ours'), node: g('node'), ceiling: g('ceiling'), ceilingName: 'sendmmsg→recvmmsg', others: udp ? [['ours send()', g('ours-send')]] : others })
          if (!udp && (g('ours-window') || g('unix-dgram-window'))) {
            out.push({ setting, kind, size, what: 'send() with 32 callbacks in flight', unit: 'rate', ours: g('ours-window'), node: undefined, ceiling: g('ceiling'), ceilingName: 'sendmmsg→recvmmsg', others: [['unix-dgram', g('unix-dgram-window')]] })
          }
          if (udp) out.push({ setting, kind, size, what: 'GSO → GRO, split', unit: 'rate', ours: g('ours-gso'), node: g('node'), ceiling: g('ceiling-gso'), ceilingName: 'GSO→GRO', others: [] })
        }
      }
    }
  }
  return out.filter((row) => row.ours || row.node || row.ceiling)
}

function rowCells(row) {
  const f = row.unit === 'bytes' ? fmtBytes : fmtRate
  const v = (x) => (row.unit === 'bytes' ? x?.bytesRate : x?.rate)
  const others = row.others
    .filter(([, x]) => x)
    .map(([name, x]) => `${name} ${f(v(x))}${row.ours && !name.startsWith('ours') && !name.includes('ceiling') ? ` (ours ${fmtRatio(v(row.ours), v(x))})` : ''}`)
    .join('; ')
  return [
    SETTING[row.setting],
    row.kind,
    row.size === 8192 ? '8 KiB' : `${row.size} B`,
    row.what,
    f(v(row.ours)),
    f(v(row.node)),
    `${f(v(row.ceiling))} (${row.ceilingName})`,
    fmtRatio(v(row.ours), v(row.node)),
    fmtRatio(v(row.ours), v(row.ceiling)),
    others,
  ]
}

const RECEIVERS = [
  ['ceiling', 'recvmmsg ceiling'],
  ['ceiling-recvfrom', 'recvfrom ceiling'],
  ['ours', "ours 'message'"],
  ['ours-batch', "ours 'messages'"],
  ['node', 'node:dgram'],
  ...PEERS.map((p) => [p, p]),
]
const fmtPct = (v) => (v === undefined || Number.isNaN(v) ? '–' : `${(v * 100).toFixed(0)} %`)

/** Every receive-capacity measurement with what makes it one: offered, loss, CPU. */
export function saturationRows(r) {
  const out = []
  const sizes = (kind) => (kind === 'unix_dgram' ? [64, 1400, 8192] : [64, 1400])
  for (const kind of ['udp4', 'udp6', 'unix_dgram']) {
    for (const size of sizes(kind)) {
      for (const [impl, name] of RECEIVERS) {
        const x = get(r, 'recv', kind, size, impl)
        if (!x) continue
        out.push([
          kind,
          size === 8192 ? '8 KiB' : `${size} B`,
          name,
          fmtRate(x.rate),
          fmtRate(x.offered),
          fmtPct(x.loss),
          fmtPct(x.cpuShare),
          fmtRate(x.perCpu).replace('/s', '/CPU-s'),
          x.saturated === undefined ? '–' : x.saturated ? 'yes' : 'no: not saturated, not a capacity figure',
        ])
      }
    }
  }
  return out
}

function rttRows(r) {
  return ['udp4', 'udp6', 'unix_dgram'].map((kind) => {
    const g = (impl) => get(r, 'rtt', kind, 64, impl)
    const others = kind === 'unix_dgram' ? PEERS.filter((p) => g(p)).map((p) => `${p} ${fmtUs(g(p).p50)} / ${fmtUs(g(p).p99)}`).join('; ') : ''
    return [kind, `${fmtUs(g('ours')?.p50)} / ${fmtUs(g('ours')?.p99)}`, kind === 'unix_dgram' ? 'n/a' : `${fmtUs(g('node')?.p50)} / ${fmtUs(g('node')?.p99)}`, `${fmtUs(g('ceiling')?.p50)} / ${fmtUs(g('ceiling')?.p99)}`, others]
  })
}

/** The goals of issues 6 and 18, evaluated on this run. */
export function goals(r) {
  const list = []
  const goal = (name, value, target, cmp = '>=', note = '') => {
    const met = value === undefined || Number.isNaN(value) ? null : cmp === '>=' ? value >= target : value <= target
    list.push({ name, value, target, cmp, met, note })
  }
  const ratio = (a, b) => (a && b ? a / b : undefined)
  const g = (s, k, z, i) => get(r, s, k, z, i)
  const ctx = (what, a, b) => {
    const x = ratio(a, b)
    return x === undefined ? '' : `${what}: ${x.toFixed(2)}×`
  }
  goal('udp4 64 B receive: ours / node:dgram', ratio(rate(g('recv', 'udp4', 64, 'ours')), rate(g('recv', 'udp4', 64, 'node'))), 3, '>=', ctx('recvmmsg ceiling / node:dgram', rate(g('recv', 'udp4', 64, 'ceiling')), rate(g('recv', 'udp4', 64, 'node'))))
  goal('udp4 64 B receive: ours / recvmmsg ceiling', ratio(rate(g('recv', 'udp4', 64, 'ours')), rate(g('recv', 'udp4', 64, 'ceiling'))), 0.7)
  goal('udp4 64 B send(): ours / node:dgram', ratio(rate(g('send', 'udp4', 64, 'ours')), rate(g('send', 'udp4', 64, 'node'))), 2, '>=', ctx('sendto ceiling / node:dgram', rate(g('send', 'udp4', 64, 'ceiling-sendto')), rate(g('send', 'udp4', 64, 'node'))))
  goal('udp4 64 B sendMany(): ours / sendmmsg ceiling', ratio(rate(g('send', 'udp4', 64, 'ours-many')), rate(g('send', 'udp4', 64, 'ceiling'))), 0.8)
  goal('udp4 1400 B GSO bytes/s: ours / node:dgram', ratio(g('send', 'udp4', 1400, 'ours-gso')?.bytesRate, g('send', 'udp4', 1400, 'node')?.bytesRate), 10, '>=', ctx('GSO ceiling / node:dgram', g('send', 'udp4', 1400, 'ceiling-gso')?.bytesRate, g('send', 'udp4', 1400, 'node')?.bytesRate))
  goal('udp4 RTT p50: ours / node:dgram', ratio(g('rtt', 'udp4', 64, 'ours')?.p50, g('rtt', 'udp4', 64, 'node')?.p50), 1, '<=')
  goal('unix_dgram RTT p50: ours / node:dgram udp4', ratio(g('rtt', 'unix_dgram', 64, 'ours')?.p50, g('rtt', 'udp4', 64, 'node')?.p50), 1, '<=', 'node:dgram has no unix_dgram; compared with its udp4 round trip')
  const e2e = rate(g('e2e', 'unix_dgram', 64, 'ours'))
  goal('unix_dgram 64 B end to end: ours / unix-dgram', ratio(e2e, rate(g('e2e', 'unix_dgram', 64, 'unix-dgram'))), 1.5, '>=', r.peers?.['unix-dgram']?.ok === false ? `unix-dgram skipped: ${r.peers['unix-dgram'].reason}` : '')
  goal('unix_dgram 64 B end to end: ours / ceiling', ratio(e2e, rate(g('e2e', 'unix_dgram', 64, 'ceiling'))), 0.9)
  const m = r.memory?.ours
  goal(`RSS growth over ${m?.received ? (m.received / 1e6).toFixed(1) + ' M' : '?'} received datagrams (MB)`, m?.before ? (m.after - m.before) / 2 ** 20 : undefined, 5, '<=')
  // Issue 18: receive at saturation, compared per receiver CPU-second.
  const recv = (impl) => g('recv', 'udp4', 64, impl)
  const perCpu = (impl) => recv(impl)?.perCpu
  const unsaturated = (...impls) => {
    const not = impls.filter((i) => recv(i) && recv(i).saturated === false)
    return not.length ? `not saturated: ${not.join(', ')}` : ''
  }
  goal("#18 udp4 64 B receive, 'message', per receiver CPU-second: ours / recvmmsg ceiling", ratio(perCpu('ours'), perCpu('ceiling')), 0.9, '>=', unsaturated('ours', 'ceiling'))
  goal("#18 udp4 64 B receive, 'message', per receiver CPU-second: ours / node:dgram", ratio(perCpu('ours'), perCpu('node')), 2.5, '>=', unsaturated('ours', 'node'))
  goal("#18 udp4 64 B receive, 'messages' batches, per receiver CPU-second: ours / recvmmsg ceiling", ratio(perCpu('ours-batch'), perCpu('ceiling')), 1.0, '>=', unsaturated('ours-batch', 'ceiling'))
  goal('#18 unix_dgram 64 B end to end, no send callbacks: ours / unix-dgram', ratio(e2e, rate(g('e2e', 'unix_dgram', 64, 'unix-dgram'))), 1.5)
  goal('#18 unix_dgram 64 B end to end, 32 send callbacks in flight: ours / unix-dgram', ratio(rate(g('e2e', 'unix_dgram', 64, 'ours-window')), rate(g('e2e', 'unix_dgram', 64, 'unix-dgram-window'))), 1.5)
  goal('#18 unix_dgram 64 B end to end: ours / C sendmmsg→recvmmsg', ratio(e2e, rate(g('e2e', 'unix_dgram', 64, 'ceiling'))), 0.9)
  goal('#18 udp4 1400 B GSO bytes/s: ours / GSO ceiling', ratio(g('send', 'udp4', 1400, 'ours-gso')?.bytesRate, g('send', 'udp4', 1400, 'ceiling-gso')?.bytesRate), 0.8)
  goal('#18 udp4 RTT p50: ours / node:dgram', ratio(g('rtt', 'udp4', 64, 'ours')?.p50, g('rtt', 'udp4', 64, 'node')?.p50), 1, '<=')
  goal('#18 udp4 RTT p99: ours / node:dgram', ratio(g('rtt', 'udp4', 64, 'ours')?.p99, g('rtt', 'udp4', 64, 'node')?.p99), 1, '<=')
  goal(`#18 RSS growth over ${m?.received ? (m.received / 1e6).toFixed(1) + ' M' : '?'} received datagrams (MB)`, m?.before ? (m.after - m.before) / 2 ** 20 : undefined, 5, '<=', m?.received && m.received < 10e6 ? 'fewer than the 10 M the goal names (quick run)' : '')
  for (const kind of ['udp4', 'unix_dgram']) {
    const idle = r.memory?.idle?.[`ours|${kind}`]?.perSocket
    goal(`#18 memory per idle ${kind} socket (KB)`, idle === undefined ? undefined : idle / 1024, 10, '<=', 'RSS growth per bound idle socket')
  }
  return list
}

function goalLines(r) {
  return r.goals.map((g) => {
    // Two decimals, or three where two would round a miss onto the target.
    const digits = g.value !== undefined && g.met === false && Number(g.value.toFixed(2)) === g.target ? 3 : 2
    const v = g.value === undefined || Number.isNaN(g.value) ? '–' : /\((MB|KB)\)/.test(g.name) ? g.value.toFixed(2) : `${g.value.toFixed(digits)}×`
    const status = g.met === null ? 'not measured' : g.met ? 'met' : 'MISSED'
    return [g.name, v, `${g.cmp} ${g.target}`, status, g.note]
  })
}

function memoryLines(r) {
  const m = r.memory ?? {}
  const lines = []
  for (const impl of ['ours', 'node']) {
    const x = m[impl]
    if (!x) continue
    if (x.error) lines.push([impl, 'error', x.error, '', ''])
    else lines.push([impl === 'node' ? 'node:dgram' : impl, `${(x.received / 1e6).toFixed(2)} M`, mb(x.before), mb(x.after), `${((x.after - x.before) / 2 ** 20).toFixed(2)} MB (peak ${mb(x.peak)})`])
  }
  const idle = Object.entries(m.idle ?? {}).map(([k, v]) => `${k.replace('node|', 'node:dgram|')}: ${v.error ? v.error : `${(v.perSocket / 1024).toFixed(1)} KiB`}`)
  return { lines, idle }
}

function table(header, body, md) {
  if (md) {
    const esc = (c) => String(c).replace(/\|/g, '\\|')
    return [`| ${header.join(' | ')} |`, `|${header.map(() => '---').join('|')}|`, ...body.map((b) => `| ${b.map(esc).join(' | ')} |`)].join('\n')
  }
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((b) => String(b[i]).length)))
  const line = (cells) => cells.map((c, i) => String(c).padEnd(widths[i])).join('  ').trimEnd()
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...body.map(line)].join('\n')
}

const THROUGHPUT = ['setting', 'kind', 'size', 'what', 'ours', 'node:dgram', 'ceiling', 'ours/node', 'ours/ceiling', 'others']
const RTT = ['kind', 'ours p50 / p99', 'node:dgram p50 / p99', 'ceiling p50 / p99', 'others']
const GOALS = ['goal', 'this run', 'target', 'status', 'note']
const SATURATION = ['kind', 'size', 'receiver', 'received', 'offered', 'loss', 'receiver CPU', 'per receiver CPU-second', 'capacity figure?']
const MEM = ['library', 'datagrams', 'RSS before', 'RSS after', 'growth']

function machineLine(r) {
  const m = r.machine
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGiB} GiB, ${m.kernel}, Node ${m.node}, ${m.rustc}; ${m.pinned ? 'receiver and sender pinned to separate cores with taskset' : 'not pinned'}; load average at start ${m.loadavg.join(' ')}; ${m.date}; ${r.config.quick ? 'quick run' : 'full run'}, median of ${r.config.reps} interleaved repetitions (round trips: ${r.config.reps * 3} runs of ${r.config.rttCount} samples), ${r.config.ms} ms windows`
}

export function textTable(r) {
  const mem = memoryLines(r)
  return [
    'Throughput (datagrams/s, median of interleaved repetitions)',
    table(THROUGHPUT, rows(r).map(rowCells), false),
    '',
    'Receive at saturation (receiver pinned to its own core; GSO feed for UDP)',
    table(SATURATION, saturationRows(r), false),
    '',
    'Round trip, 64 B, one in flight, against the ceiling echo server',
    table(RTT, rttRows(r), false),
    '',
    'Memory',
    table(MEM, mem.lines, false),
    `RSS per idle bound socket: ${mem.idle.join('; ')}`,
    '',
    'Goals (issues 6 and 18; #18 marks the latter)',
    table(GOALS, goalLines(r), false),
    '',
    `Machine: ${machineLine(r)}`,
    ...Object.entries(r.errors ?? {}).map(([id, e]) => `failed: ${id}: ${e.slice(0, 160)}`),
  ].join('\n')
}

export function markdownReport(r, { chart = 'chart.png', short = false } = {}) {
  const mem = memoryLines(r)
  const head = [
    `Machine: ${machineLine(r)}.`,
    '',
    `![benchmark chart](${chart})`,
    '',
    '**Goals** (issues 6 and 18; #18 marks the latter)',
    '',
    table(GOALS, goalLines(r), true),
    '',
    '**Receive at saturation** (receiver pinned to its own core, fed by a GSO blaster for UDP; a receiver that neither dropped ≥ 5 % nor used ≥ 90 % of its core was not saturated)',
    '',
    table(SATURATION, saturationRows(r), true),
  ]
  if (short) return head.join('\n')
  return [
    ...head,
    '',
    '**Throughput** (datagrams/s unless noted; ratios are ours ÷ the other, same run)',
    '',
    table(THROUGHPUT, rows(r).map(rowCells), true),
    '',
    '**Round trip** (64 B, one request in flight, against the ceiling echo server)',
    '',
    table(RTT, rttRows(r), true),
    '',
    '**Memory**',
    '',
    table(MEM, mem.lines, true),
    '',
    `RSS per idle bound socket: ${mem.idle.join('; ')}.`,
    ...(Object.keys(r.errors ?? {}).length ? ['', '**Failed runs**', '', ...Object.entries(r.errors).map(([id, e]) => `- ${id}: ${e.slice(0, 200)}`)] : []),
    ...Object.entries(r.peers ?? {}).filter(([, v]) => !v.ok).map(([k, v]) => `\n${k} was skipped: ${v.reason}`),
  ].join('\n')
}
