/**
 * What a run found, printed as a table and written as JSON with the same numbers: medians with their
 * spread, the ratio of the medians with the spread of the per-round ratios, and each target's verdict.
 */
import { readFileSync } from 'node:fs';
import { cpus, loadavg, release, totalmem, version } from 'node:os';
import type { Goal, Outcome } from './harness';
import { ratios, summarize, type RatioSummary, type Summary } from './stats';

export interface Machine {
  date: string;
  cores: number;
  cpu: string;
  memoryGiB: number;
  node: string;
  kernel: string;
  /** The variable adds to every Node start here; the CLI rows keep it, as the user's shell has it. */
  nodeExtraCaCerts: string | null;
  loadAverageAtStart: number[];
}

export function machine(): Machine {
  const model = /^model name\s*:\s*(.*)$/m.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1];
  return {
    date: new Date().toISOString(),
    cores: cpus().length,
    cpu: model ?? cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round(totalmem() / 2 ** 30 * 10) / 10,
    node: process.version,
    kernel: `${release()} ${version()}`,
    nodeExtraCaCerts: process.env.NODE_EXTRA_CA_CERTS ?? null,
    loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
  };
}

export interface Row {
  id: string;
  title: string;
  unit: string;
  goal: Goal;
  status: Outcome['status'];
  reason?: string;
  note?: string;
  verdict: 'meets' | 'misses' | 'report' | 'skipped' | 'failed';
  ours?: Summary & { label: string; samples: number[] };
  peer?: Summary & { label: string; samples: number[] };
  ratio?: RatioSummary;
  /** ours' median minus the peer's, in the unit. */
  difference?: number;
}

function verdict(goal: Goal, ours: Summary, peer: Summary): Row['verdict'] {
  switch (goal.kind) {
    case 'ratio': return ours.median / peer.median <= goal.max ? 'meets' : 'misses';
    case 'absolute': return ours.median <= goal.max ? 'meets' : 'misses';
    case 'difference': return ours.median - peer.median <= goal.max ? 'meets' : 'misses';
    case 'report': return 'report';
  }
}

export function toRow(o: Outcome): Row {
  const c = o.comparison;
  const base = { id: c.id, title: c.title, unit: c.unit, goal: c.goal, status: o.status, reason: o.reason,
    note: o.prepared?.note };
  if (!o.ours.length) {
    return { ...base, status: o.status === 'measured' ? 'failed' : o.status,
      reason: o.reason ?? 'no round completed', verdict: o.status === 'skipped' ? 'skipped' : 'failed' };
  }
  // A comparison that failed part-way keeps the rounds it made, but earns no verdict from them.
  const ours = summarize(o.ours);
  const peer = summarize(o.peer);
  return {
    ...base, verdict: o.status === 'measured' ? verdict(c.goal, ours, peer) : 'failed',
    ours: { label: o.prepared!.ours.label, ...ours, samples: o.ours },
    peer: { label: o.prepared!.peer.label, ...peer, samples: o.peer },
    ratio: ratios(o.ours, o.peer), difference: ours.median - peer.median,
  };
}

const num = (v: number) => (Math.abs(v) >= 100 ? v.toFixed(0) : Math.abs(v) >= 10 ? v.toFixed(1) : v.toFixed(2));
const spread = (s: Summary, unit: string) => `${num(s.median)} ${unit} (${num(s.min)}..${num(s.max)})`;

function goalText(goal: Goal, unit: string): string {
  switch (goal.kind) {
    case 'ratio': return `ratio <= ${goal.max.toFixed(1)}`;
    case 'absolute': return `ours <= ${goal.max} ${unit}`;
    case 'difference': return `within ${goal.max} ${unit}`;
    case 'report': return 'report only';
  }
}

function cells(r: Row): string[] {
  if (!r.ours || !r.peer || !r.ratio) return [r.title, '-', '-', '-', goalText(r.goal, r.unit), r.verdict];
  const diff = r.goal.kind === 'difference' ? ` (${r.difference! >= 0 ? '+' : ''}${num(r.difference!)} ${r.unit})` : '';
  return [r.title, spread(r.ours, r.unit), spread(r.peer, r.unit),
    `${r.ratio.ofMedians.toFixed(2)} (${r.ratio.min.toFixed(2)}..${r.ratio.max.toFixed(2)})`,
    goalText(r.goal, r.unit), r.verdict + diff];
}

export function printReport(m: Machine, runs: number, rows: Row[], out: (line: string) => void): void {
  out(`${m.date}  ${m.cores} cores, ${m.cpu}, ${m.memoryGiB} GiB  node ${m.node}  kernel ${m.kernel}`);
  out(`runs: ${runs} interleaved rounds after 1 warm-up round  ` +
    `NODE_EXTRA_CA_CERTS: ${m.nodeExtraCaCerts === null ? 'not set' : `set (${m.nodeExtraCaCerts}), kept for ` +
      'every command, as the user has it'}  load average at start: ${m.loadAverageAtStart.join(' ')}, ` +
    `at end: ${loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  out('');
  const header = ['comparison', 'ours median (min..max)', 'peer median (min..max)', 'ratio of medians (rounds)',
    'target', 'verdict'];
  const table = [header, ...rows.map(cells)];
  const widths = header.map((_, i) => Math.max(...table.map((row) => row[i].length)));
  for (const row of table) out(row.map((c, i) => c.padEnd(widths[i])).join('  ').trimEnd());
  out('');
  for (const r of rows) {
    if (r.ours && r.peer) {
      out(`${r.title}: ours ${r.ours.label}`);
      out(`${' '.repeat(r.title.length)}  peer ${r.peer.label}`);
    }
    if (r.reason) out(`${r.title}: ${r.verdict}: ${r.reason}`);
    if (r.note) out(`${' '.repeat(r.title.length)}  note: ${r.note}`);
  }
}
