/**
 * What every matrix scenario works with: the row's containers, the engine, and small helpers to
 * look inside a container and to say pass, fail or skip.
 */
import { execInTarget, type ExecProcess } from '../native/exec';
import type { Target } from '../native/target';
import type { Engine } from '../core/engine';
import { withDeadline } from '../base/deadline';
import type { ScopeError } from '../base/errors';
import { withContainerTarget } from '../core/flows/target';

/**
 * A command of the runtime's own that tells something about a container, for the scenarios and
 * tests to compare the adapter with: argv words, run without a shell, in which `{name}` is the
 * container's name and `{id}` its full ID; what it prints (trimmed) is the answer, or with `match`
 * (a regular expression, multi-line, with the same placeholders) its first group.
 */
export interface ToolQuery {
  argv: string[];
  match?: string;
}

/** The containers one matrix row uses, and how the runtime's own tools describe them. */
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
  /** A running container whose main process is not root (uid 1000), whose installs go to /tmp (optional). */
  nonroot?: string;
  /**
   * The host UID of the container's root, as /proc/PID/uid_map of its main process maps 0: 0, or
   * 100000 with a user namespace (optional; left out where it depends on the machine's subordinate IDs).
   */
  hostRoot?: number;
  /**
   * The runtime's own command printing a running container's host PID (optional): `docker inspect`,
   * `ctr task ls`, `lxc-info -p`. Resolving is checked against it where given.
   */
  pidOf?: ToolQuery;
  /**
   * The runtime's own command printing a container's full ID from its name (optional): given, the
   * row's runtime resolves ID prefixes (even where IDs are names, as ctr's are); absent, IDs are
   * the adapter's and a runtime whose IDs are its names (LXC, LXD) is not asked for prefixes.
   */
  idOf?: ToolQuery;
  /**
   * More running containers for the doctor column (optional): made with options that change what a
   * payload may trace (--cap-add SYS_PTRACE, seccomp=unconfined, no-new-privileges, --cap-drop ALL).
   */
  doctor?: string[];
  /** A running sandboxed (gVisor) container: the doctor must name the sandbox and exec refuse it (optional). */
  sandboxed?: string;
  /**
   * The row with the engine in its image (matrix --in-image), optional: `flags`, what `docker run`
   * needs for it besides the node agent's own (the lxc adapter's classic side: `--network host` and
   * the lxcpath at its own path); `skip`, why the row cannot run that way here.
   */
  agent?: { flags?: string[]; skip?: string };
}

export type Outcome = { status: 'pass' } | { status: 'fail'; reason: string } | { status: 'skip'; reason: string };

/** One row of the matrix as it ran: an outcome per scenario. */
export interface MatrixRow {
  label: string;
  runtime: string;
  available: boolean;
  results: Record<string, Outcome>;
}

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
  /** Shared between scenarios of one row: the payload's loader once a scenario started it. */
  state: { loader?: Loader };
}

/** A payload's loader a scenario started, and left running for the next ones. */
export interface Loader {
  /** Its host PID. */
  pid: number;
  /** The exec helper that started it and waits for it: it ends with the loader, and passes signals on. */
  process: ExecProcess;
  /** The scenario that started it: a loader that will not stop is that scenario's failure. */
  by: string;
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

/** How long a loader has to end after SIGTERM: the probe ends within one step (50 ms) of it. */
const LOADER_END_MS = 5000;

/**
 * Ends the loader a scenario started and waits for its end: the helper, our own child, exits with
 * it, so the wait is on that exit, not on a while. One that does not end is killed, and an error.
 */
export async function stopLoader(ctx: ScenarioContext): Promise<void> {
  const loader = ctx.state.loader;
  if (!loader) return;
  ctx.state.loader = undefined;
  const ended = loader.process.exited.catch(() => undefined);
  loader.process.child.kill('SIGTERM');
  try {
    await within(LOADER_END_MS, `the loader (PID ${loader.pid}) to end after SIGTERM`, ended);
  } catch (err) {
    loader.process.child.kill('SIGKILL');
    throw err;
  }
}

/** `work`, or after `ms` an error saying what did not happen. */
export function within<T>(ms: number, what: string, work: Promise<T>): Promise<T> {
  return withDeadline(work, ms, () => new Error(`waited ${ms} ms for ${what}`));
}

/**
 * The first `n` lines a process prints, as they come. Its output is read on to its end, so that
 * a process that goes on printing never blocks on a full pipe; it ending first is an error.
 */
export function firstLines(p: ExecProcess, n: number): Promise<string[]> {
  let text = '';
  let done = false;
  return new Promise((resolve, reject) => {
    p.child.stdout!.on('data', (b: Buffer) => {
      if (done) return; // read on, keeping nothing
      text += b.toString();
      const lines = text.split('\n');
      if (lines.length <= n) return;
      done = true;
      resolve(lines.slice(0, n));
    });
    const early = (e: { code: number | null; signal: string | null }) =>
      new Error(`it ended (${e.signal ?? `exit ${e.code}`}) after printing ${JSON.stringify(text)}`);
    p.exited.then((e) => reject(early(e)), reject);
  });
}
