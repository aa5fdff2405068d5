/** Runs the built CLI as a user would, in a child process, and captures what it printed. */
import { execFile } from 'node:child_process';
import { join } from 'node:path';

export const CLI = join(__dirname, '..', '..', 'cli', 'main.js');

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs `scope-engine ARGS`; its stdin is `input` (empty by default, so nothing waits on it). */
export function cli(args: string[], env: Record<string, string | undefined> = {}, input = ''): Promise<CliResult> {
  return cliUnder([], args, env, input);
}

/**
 * `scope-engine ARGS` started by another program first (`unshare --pid ...`, `setpriv --bounding-set ...`):
 * the engine as that program leaves it.
 */
export function cliUnder(prefix: string[], args: string[], env: Record<string, string | undefined> = {},
  input = ''): Promise<CliResult> {
  const [cmd, ...rest] = [...prefix, process.execPath, CLI, ...args];
  return new Promise((resolve) => {
    // NODE_EXTRA_CA_CERTS only slows every start here; nothing the CLI does needs it.
    const childEnv = { ...process.env, NODE_EXTRA_CA_CERTS: '', ...env };
    const child = execFile(cmd, rest,
      { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin!.end(input);
  });
}

/** Parses --json output, failing with what was printed when it is not JSON. */
export function json<T = any>(r: CliResult): T {
  try {
    return JSON.parse(r.stdout) as T;
  } catch {
    throw new Error(`not JSON (exit ${r.code}): ${r.stdout}\n${r.stderr}`);
  }
}
