/**
 * Integration tests need the lab's runtimes (bash test/lab/setup.sh). Outside CI a missing runtime
 * skips the suite and says why; with CI=true it fails the run, because the lab should have started it.
 * Their containers are the matrix's: the rows of test/lab/matrix.json, one list for both.
 */
import { execFileSync } from 'node:child_process';
import type { Context } from 'mocha';
import { createEngine } from '../../core/index';
import { loadLab } from '../../testing/matrix';
import { ownId, ownPid } from '../../testing/own';
import type { LabRow } from '../../testing/context';

/** Skips the suite or test, saying why; with CI=true fails it instead: the lab should have made what is missing. */
export function skipOrFail(ctx: Context, why: string): never {
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  process.stderr.write(`  skipping: ${why}\n`);
  ctx.skip();
}

export async function requireRuntime(ctx: Context, name: string): Promise<void> {
  const engine = await createEngine();
  try {
    const [status] = (await engine.status()).filter((s) => s.name === name);
    if (status?.available) return;
    skipOrFail(ctx, `runtime ${name} is not available: ${status?.reason ?? 'no such adapter'}; ` +
      'run bash test/lab/setup.sh');
  } finally {
    await engine.close();
  }
}

/** Runs a runtime's own CLI (docker, podman, ctr, ...) to compare with what scope-engine says. */
export function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}

/**
 * Why the integration tests leave a row of the lab file out: they run as root on the built-in
 * adapters, and other tests run the rest.
 */
function leftOut(row: LabRow): string | undefined {
  if (row.user) return `its runtime is ${row.user}'s: rootless.test.ts and the matrix (as that user) run it`;
  if (row.plugins) return 'its adapter is a plugin: grpc-plugins.test.ts and the matrix run it';
  return undefined;
}

/** The lab's containers (test/lab/matrix.json, the matrix's list) that the integration tests run on. */
export function labRows(): LabRow[] {
  return loadLab().filter((r) => !leftOut(r));
}

/** The row with `label`, for checks that belong to one runtime. */
export function labRow(label: string): LabRow {
  const row = labRows().find((r) => r.label === label);
  if (!row) throw new Error(`test/lab/matrix.json has no row "${label}" the integration tests run on`);
  return row;
}

/** A row's running container as the runtime's own tools tell it: its full ID and host PID. */
export async function ownView(row: LabRow, name = row.running): Promise<{ id: string; pid: number }> {
  const id = await ownId(row, name);
  const pid = await ownPid(row, name, id);
  if (pid === undefined) throw new Error(`row "${row.label}" of test/lab/matrix.json has no pidOf`);
  return { id, pid };
}
