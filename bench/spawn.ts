/**
 * Running the commands the benchmark times and the ones that set it up. Every child is awaited
 * (its exit is part of what is timed), and the only process ever killed is one of these children,
 * by its own handle, when it outlives its deadline.
 */
import { spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';

/** Thrown while preparing a comparison that cannot run here; the message says why. */
export class Skip extends Error {}

/** Whether `name` is an executable in PATH, as a shell would find it. */
export function hasTool(name: string): boolean {
  return (process.env.PATH ?? '').split(delimiter).some((dir) => {
    try {
      accessSync(join(dir, name), constants.X_OK);
      return true;
    } catch {
      return false;
    }
  });
}

/** Skips the comparison unless every tool is in PATH. */
export function needTools(...names: string[]): void {
  const missing = names.filter((n) => !hasTool(n));
  if (missing.length) throw new Skip(`not in PATH: ${missing.join(', ')}`);
}

export interface RunOptions {
  env?: NodeJS.ProcessEnv;
  /** A child still running after this long is killed and the sample fails (a hung daemon). */
  timeoutMs?: number;
}

/**
 * Runs `argv` to its exit; a non-zero status fails the sample rather than timing an error. Resolves
 * on the exit itself, not on its pipes closing: a detached program it started may keep them open.
 */
export async function runCommand(argv: string[], opts: RunOptions = {}): Promise<void> {
  const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'ignore', 'pipe'], env: opts.env ?? process.env });
  const stderr: Buffer[] = [];
  child.stderr!.on('data', (b: Buffer) => stderr.push(b));
  const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 60_000);
  try {
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolve, reject) => {
      child.once('error', reject);
      child.once('exit', (c, s) => resolve([c, s]));
    });
    if (code === 0) return;
    // The reason is worth a short wait for the rest of stderr; a detached grandchild may hold it open.
    await Promise.race([new Promise((r) => child.stderr!.once('close', r)), new Promise((r) => setTimeout(r, 500))]);
    const why = Buffer.concat(stderr).toString().trim().split('\n').slice(-3).join(' / ');
    throw new Error(`${argv.join(' ')}: ${signal ?? `exit status ${code}`}${why ? `: ${why}` : ''}`);
  } finally {
    clearTimeout(timer);
    child.stderr!.destroy();
  }
}

/** Like runCommand for clean-up: a failure is only logged, since the next step must still run. */
export async function tryCommand(argv: string[]): Promise<void> {
  await runCommand(argv).catch((err: Error) => process.stderr.write(`bench: clean-up: ${err.message}\n`));
}

/**
 * The peak resident memory of `argv`, in MiB, as GNU time reads it from wait4(): the largest RSS of
 * the process or of any descendant it waited for (so the exec helper counts, a daemon does not).
 */
export async function maxRssMiB(argv: string[], opts: RunOptions = {}): Promise<number> {
  const dir = mkdtempSync(join(tmpdir(), 'scope-bench-rss-'));
  try {
    const file = join(dir, 'rss');
    await runCommand(['/usr/bin/time', '-f', '%M', '-o', file, ...argv], opts);
    return Number(readFileSync(file, 'utf8').trim().split('\n').pop()) / 1024;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
