/**
 * The matrix: every scenario against every runtime row, as a table like the "Current Status" table
 * AppScope's namespace note starts from. Rows come from a lab file naming each runtime's containers
 * (the repository's test/lab/matrix.json by default, when there is one).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createEngine } from '../core/index';
import { ScopeError } from '../base/errors';
import { PACKAGE_ROOT } from '../base/paths';
import { runRowAsUser } from './as-user';
import { failedRow } from './child-row';
import { runRowInImage } from './in-image';
import { createFixtures } from './create';
import type { MatrixRow } from './context';
import { runScenarios, SCENARIOS, type LabRow } from './scenarios';

export type { MatrixRow };

export const LAB_FILE = join(PACKAGE_ROOT, 'test', 'lab', 'matrix.json');

export interface MatrixOptions {
  labFile?: string;
  /** Make (and afterwards remove) fixture containers from this image where the runtime allows it. */
  createFrom?: string;
  /** Labels or runtime names to keep. */
  only?: string[];
  busybox?: string;
  env?: Record<string, string | undefined>;
  /** --host-root. */
  hostRoot?: string;
  /** Run each row with the engine inside this image, as a node agent (in-image.ts). */
  inImage?: string;
}

export function loadLab(file = LAB_FILE): LabRow[] {
  if (file === LAB_FILE && !existsSync(file)) {
    throw new ScopeError('E_USAGE', 'no lab file here (the package ships none): name your containers with ' +
      '--lab FILE, see --help');
  }
  let doc: { rows?: LabRow[]; targets?: LabRow[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScopeError('E_USAGE', `lab file ${file}: ${(err as Error).message}`, { cause: err });
  }
  // "targets" is what the key was called before; files written then still load.
  const rows = doc.rows ?? doc.targets;
  if (!Array.isArray(rows)) throw new ScopeError('E_USAGE', `lab file ${file}: no "rows" list`);
  for (const r of rows) {
    for (const key of ['pidOf', 'idOf'] as const) {
      const q = r[key];
      if (q && !(Array.isArray(q.argv) && q.argv.length && q.argv.every((a) => typeof a === 'string'))) {
        throw new ScopeError('E_USAGE', `lab file ${file}: row "${r.label}": ${key} needs "argv", a list of words`);
      }
    }
  }
  return rows.map((r) => ({ ...r, plugins: r.plugins && resolve(dirname(file), r.plugins) }));
}

export async function runMatrix(opts: MatrixOptions = {}): Promise<MatrixRow[]> {
  let lab = loadLab(opts.labFile);
  if (opts.only?.length) lab = lab.filter((r) => opts.only!.includes(r.label) || opts.only!.includes(r.runtime));
  const busybox = opts.busybox ?? '/bin/busybox';
  if (!existsSync(busybox)) {
    throw new ScopeError('E_USAGE', `${busybox} is needed to look inside containers without tools ` +
      '(apt-get install busybox-static)');
  }
  const plugins = [...new Set(lab.map((r) => r.plugins).filter((p): p is string => !!p))];
  const created = opts.createFrom ? await createFixtures(lab, opts.createFrom) : undefined;
  if (created) lab = created.rows;
  const engine = await createEngine({ plugins, env: opts.env, hostRoot: opts.hostRoot });
  const rows: MatrixRow[] = [];
  try {
    const statuses = await engine.status();
    for (const row of lab) {
      if (opts.inImage) {
        rows.push(await runRowInImage(row, opts.labFile ?? LAB_FILE, opts.inImage));
        continue;
      }
      const other = row.user ? await runRowAsUser({ ...row, user: row.user }, opts.labFile ?? LAB_FILE) : undefined;
      if (other) {
        rows.push(other);
        continue;
      }
      const status = statuses.find((s) => s.name === row.runtime);
      if (!status?.available) {
        rows.push(failedRow(row, `runtime unavailable: ${status?.reason ?? 'no such adapter'}`));
        continue;
      }
      const results = await runScenarios({ engine, row, busybox, state: {} });
      rows.push({ label: row.label, runtime: row.runtime, available: true, results });
    }
  } finally {
    await engine.close();
    await created?.cleanup();
  }
  return rows;
}

export function countOutcomes(rows: MatrixRow[]): { passed: number; failed: number; skipped: number } {
  const all = rows.flatMap((r) => Object.values(r.results));
  return {
    passed: all.filter((o) => o.status === 'pass').length,
    failed: all.filter((o) => o.status === 'fail').length,
    skipped: all.filter((o) => o.status === 'skip').length,
  };
}

/** Markdown: a row per runtime, a column per scenario; failures and skips say why under the table. */
export function formatMarkdown(rows: MatrixRow[]): string {
  const notes: string[] = [];
  const cell = (row: MatrixRow, id: string): string => {
    const o = row.results[id];
    if (!o) return '';
    if (o.status === 'pass') return '✅ pass';
    notes.push(`${row.label} / ${id}: ${o.reason}`);
    return `${o.status === 'fail' ? '❌ fail' : '⏭ skip'} [${notes.length}]`;
  };
  const ids = SCENARIOS.map((s) => s.id).filter((id) => rows.some((r) => r.results[id]));
  const header = `| runtime | ${ids.map((id) => SCENARIOS.find((s) => s.id === id)!.title).join(' | ')} |`;
  const lines = [header, `|---|${ids.map(() => '---').join('|')}|`];
  for (const row of rows) lines.push(`| ${row.label} | ${ids.map((id) => cell(row, id)).join(' | ')} |`);
  if (notes.length) lines.push('', ...notes.map((n, i) => `[${i + 1}] ${n}`));
  return lines.join('\n');
}
