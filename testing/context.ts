/**
 * What every matrix scenario works with: the row's containers, the engine, and small helpers to
 * look inside a container and to say pass, fail or skip.
 */
import { execInTarget } from '../native/exec';
import type { Target } from '../native/target';
import type { Engine } from '../core/engine';
import type { ScopeError } from '../base/errors';
import { withContainerTarget } from '../core/flows/target';

/** The containers one matrix row uses. */
export interface LabRow {
  /** The row's label, e.g. "podman (user namespace)". */
  label: string;
  /** The adapter's name, as --runtime takes it. */
  runtime: string;
  /** A running container with a shell-less-safe workload. */
  running: string;
  /** A container that exists but is not running (optional). */
  stopped?: string;
  /** A running container with no shell in it (optional). */
  noshell?: string;
  /** A plugins file that provides the adapter (third-party ones), relative to the lab file. */
  plugins?: string;
  /**
   * The runtime's own exec, as argv words before the command: `{id}` is the container's ID and
   * `{unique}` a fresh word (ctr's --exec-id). Built-in runtimes other than lxc have a default.
   */
  exec?: string[];
  /** A running container with a read-only root and memory and pids limits (optional). */
  limited?: string;
  /** The user whose (rootless) runtime this is: the row runs as that user (optional). */
  user?: string;
}

export type Outcome = { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'skip'; reason: string };

export interface Scenario {
  id: string;
  title: string;
  run(ctx: ScenarioContext): Promise<Outcome | void>;
}

export interface ScenarioContext {
  engine: Engine;
  row: LabRow;
  /** Host busybox: runs tools in containers that lack them, through exec --host-binary. */
  busybox: string;
  /** Shared between scenarios of one row: the payload's loader once run-payload started it. */
  state: { loaderPid?: number };
}

export const skip = (reason: string): Outcome => ({ status: 'skip', reason });

export function check(cond: unknown, why: string): asserts cond {
  if (!cond) throw new Error(why);
}

export async function expectCode(p: Promise<unknown>, code: string): Promise<void> {
  const err = await p.then(() => undefined, (e: ScopeError) => e);
  check(err, `expected ${code}, it succeeded`);
  check(err.code === code, `expected ${code}, got ${err.code}: ${err.message}`);
}

export function withTarget<T>(ctx: ScenarioContext, ref: string, fn: (t: Target) => Promise<T>): Promise<T> {
  return withContainerTarget(ctx.engine, ctx.row.runtime, ref, undefined, ({ target }) => fn(target));
}

/** A shell command inside the container, run by the host's static busybox (works without a shell there). */
export async function inside(ctx: ScenarioContext, t: Target, script: string, uid = 0, gid = 0) {
  return execInTarget(t, { argv: [ctx.busybox, 'sh', '-c', script], hostBinary: true, uid, gid });
}

export async function stopLoader(ctx: ScenarioContext): Promise<void> {
  if (!ctx.state.loaderPid) return;
  try {
    process.kill(ctx.state.loaderPid, 'SIGTERM');
  } catch {
    // already gone
  }
  ctx.state.loaderPid = undefined;
  await new Promise((r) => setTimeout(r, 300));
}

