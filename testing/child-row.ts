/**
 * A matrix row run by another engine process (as another user, or inside the engine's image): it
 * runs `scope-engine matrix --runtime LABEL --format json` and the row is read back from its answer.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import type { LabRow, MatrixRow, Outcome } from './context';
import { SCENARIOS } from './scenarios';

/** A whole row's bound: its scenarios take well under a minute. */
const ROW_TIMEOUT_MS = 10 * 60_000;

/** The row with one outcome for every scenario: all failed (unavailable), or all skipped for one reason. */
export function uniformRow(row: LabRow, outcome: Outcome): MatrixRow {
  return { label: row.label, runtime: row.runtime, available: outcome.status !== 'fail',
    results: Object.fromEntries(SCENARIOS.map((s) => [s.id, outcome])) };
}

/** The row with every scenario failed for `reason`. */
export const failedRow = (row: LabRow, reason: string): MatrixRow => uniformRow(row, { status: 'fail', reason });

/** Runs `argv` (a matrix of `row` alone, printing JSON) and reads the row back; `where` says where it ran. */
export async function childRow(row: LabRow, argv: string[], opts: SpawnOptions, where: string): Promise<MatrixRow> {
  const child = spawn(argv[0], argv.slice(1), { ...opts, stdio: ['ignore', 'pipe', 'pipe'],
    timeout: ROW_TIMEOUT_MS, killSignal: 'SIGKILL' });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout!.on('data', (b: Buffer) => out.push(b));
  child.stderr!.on('data', (b: Buffer) => err.push(b));
  const status = await new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(e.message));
    child.once('close', (code, signal) => resolve(signal ? `killed by ${signal}` : `exit ${code}`));
  });
  try {
    // A label that is also a runtime's name ("docker") selects that runtime's other rows too.
    const found = (JSON.parse(Buffer.concat(out).toString()) as { rows: MatrixRow[] }).rows
      .find((r) => r.label === row.label);
    if (found) return found;
  } catch {
    // reported below
  }
  return failedRow(row, `the row did not run ${where} (${status}): ` +
    `${Buffer.concat(err).toString().trim().slice(-300) || 'no output'}`);
}
