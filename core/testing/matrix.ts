/**
 * The matrix: every scenario against every runtime row, as a table like the "Current Status" table
 * AppScope's namespace note starts from. Rows come from a targets file (the lab's by default).
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { createEngine } from '../index';
import { ScopeError } from '../errors';
import { PACKAGE_ROOT } from '../paths';
import { runRowAsUser } from './as-user';
import { createFixtures } from './create';
import { runScenarios, SCENARIOS, type MatrixTarget, type Outcome } from './scenarios';

export const LAB_TARGETS = join(PACKAGE_ROOT, 'test', 'lab', 'matrix.json');

export interface MatrixRow {
  label: string;
  runtime: string;
  available: boolean;
  results: Record<string, Outcome>;
}

export interface MatrixOptions {
  targetsFile?: string;
  /** Make (and afterwards remove) fixture containers from this image where the runtime allows it. */
  createFrom?: string;
  /** Labels or runtime names to keep. */
  only?: string[];
  busybox?: string;
  env?: Record<string, string | undefined>;
}

export function loadTargets(file = LAB_TARGETS): MatrixTarget[] {
  let doc: { targets?: MatrixTarget[] };
  try {
    doc = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new ScopeError('E_USAGE', `targets file ${file}: ${(err as Error).message}`, { cause: err });
  }
  if (!Array.isArray(doc.targets)) throw new ScopeError('E_USAGE', `targets file ${file}: no "targets" list`);
  return doc.targets.map((t) => ({ ...t, plugins: t.plugins && resolve(dirname(file), t.plugins) }));
}

export async function runMatrix(opts: MatrixOptions = {}): Promise<MatrixRow[]> {
  let targets = loadTargets(opts.targetsFile);
  if (opts.only?.length) targets = targets.filter((t) => opts.only!.includes(t.label) || opts.only!.includes(t.runtime));
  const busybox = opts.busybox ?? '/bin/busybox';
  if (!existsSync(busybox)) throw new ScopeError('E_USAGE', `${busybox} is needed to look inside containers without tools (apt-get install busybox-static)`);
  const plugins = [...new Set(targets.map((t) => t.plugins).filter((p): p is string => !!p))];
  const created = opts.createFrom ? await createFixtures(targets, opts.createFrom) : undefined;
  if (created) targets = created.targets;
  const engine = await createEngine({ plugins, env: opts.env });
  const rows: MatrixRow[] = [];
  try {
    const statuses = await engine.status();
    for (const target of targets) {
      const other = target.user ? await runRowAsUser({ ...target, user: target.user }, opts.targetsFile ?? LAB_TARGETS) : undefined;
      if (other) {
        rows.push(other);
        continue;
      }
      const status = statuses.find((s) => s.name === target.runtime);
      if (!status?.available) {
        const reason = `runtime unavailable: ${status?.reason ?? 'no such adapter'}`;
        rows.push({ label: target.label, runtime: target.runtime, available: false,
          results: Object.fromEntries(SCENARIOS.map((s) => [s.id, { status: 'fail', reason } as Outcome])) });
        continue;
      }
      const results = await runScenarios({ engine, target, busybox, state: {} });
      rows.push({ label: target.label, runtime: target.runtime, available: true, results });
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
