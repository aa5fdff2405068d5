/**
 * Integration tests need the lab's runtimes (bash test/lab/setup.sh). Outside CI a missing runtime
 * skips the suite and says why; with CI=true it fails the run, because the lab should have started it.
 */
import { execFileSync } from 'node:child_process';
import type { Context } from 'mocha';
import { createEngine } from '../../core/index';

export async function requireRuntime(ctx: Context, name: string): Promise<void> {
  const engine = await createEngine();
  try {
    const [status] = (await engine.status()).filter((s) => s.name === name);
    if (status?.available) return;
    const why = `runtime ${name} is not available: ${status?.reason ?? 'no such adapter'}; run bash test/lab/setup.sh`;
    if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
    process.stderr.write(`  skipping: ${why}\n`);
    ctx.skip();
  } finally {
    await engine.close();
  }
}

/** Runs a runtime's own CLI (docker, podman, ctr, ...) to compare with what scope-engine says. */
export function tool(cmd: string, args: string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8' }).trim();
}
