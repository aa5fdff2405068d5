/**
 * The main job, `scope-engine run`: pin the target, install a payload into its container as the
 * target's user, and start the payload's loader inside the container's namespaces as that user,
 * pointed at the target by its in-container PID (AppScope's first attach, without ptrace).
 *
 * What runs is the engine's own copy of the loader, executed from a sealed memfd, so nothing the
 * container changes in the install between the check and the start changes what runs. A payload
 * that keeps a lock file is "started" only once its loader holds the lock: a loader that lost a
 * race with another, or could not take the lock, is an error, never a false success.
 */
import { spawnInTarget, type ExecProcess } from '../../native/exec';
import { ContainerFs } from '../../native/files';
import { nsPidOf } from '../../native/target';
import type { Engine } from '../engine';
import { installPayload, type Installed, type Progress } from '../payload/install';
import { loadPayload, substitute, type Payload } from '../payload/manifest';
import type { Container } from '../runtime';
import { ScopeError } from '../../base/errors';
import { openContainerTarget, refusePaused } from './target';
import { forTerminal } from '../../base/text';
import type { Clock } from '../tokens';
import { pollUntil } from './poll';

export interface RunOptions {
  /** A payload directory; default the built-in scope-probe. */
  payloadDir?: string;
  /** The target process as the container numbers it; default the container's main process. */
  pid?: number;
  /** Runs this instead of the payload's loader (placeholders filled in the same way). */
  command?: string[];
  env?: Record<string, string>;
  /** The engine's own capabilities, no seccomp filter (exec --privileged). */
  privileged?: boolean;
  /** Leave the loader running after the engine exits. */
  detach?: boolean;
  progress?: Progress;
  /** How long a loader may take to hold its lock; default 5000 ms. */
  lockWaitMs?: number;
}

export interface RunResult {
  container: Container;
  target: { pid: number; nsPid: number; uid: number; gid: number };
  payload: { name: string; version: string; hash: string };
  install: Installed;
  loader: { argv: string[]; pid: number };
  process: ExecProcess;
}

/**
 * A payload that keeps a lock file names its running loader there; if that process still runs
 * (seen through the container's own /proc), a second loader would only race the first.
 */
async function refuseIfRunning(fs: ContainerFs, lockPath: string, nsPid: number): Promise<void> {
  const loaderPid = await lockHolder(fs, lockPath);
  if (!loaderPid) return;
  const cmdline = await fs.read(`/proc/${loaderPid}/cmdline`, { uid: 0, gid: 0 }).catch(() => undefined);
  if (cmdline && cmdline.toString().split('\0').includes(String(nsPid))) {
    throw new ScopeError('E_ALREADY_RUNNING',
      `a payload already runs for PID ${nsPid} in this container (its loader is PID ` +
      `${loaderPid} there); use detach/reattach to steer it, or scope-engine stop`,
      { details: { loaderPid, lock: lockPath } });
  }
}

/** The PID a lock file names, or undefined when there is none (or no number in it). */
export async function lockHolder(fs: ContainerFs, lockPath: string): Promise<number | undefined> {
  // As the loader opens it: never through a symlink at the lock's own name.
  const text = await fs.read(lockPath, { maxBytes: 64, noFollow: true }).then((b) => b.toString().trim(), () => '');
  return /^[1-9]\d*$/.test(text) ? Number(text) : undefined;
}

export async function runPayload(engine: Engine, selector: string, ref: string, opts: RunOptions): Promise<RunResult> {
  const payload = loadPayload(opts.payloadDir && engine.hostRoot.userPath(opts.payloadDir));
  const { container, target } = await openContainerTarget(engine, selector, ref, opts.pid);
  try {
    refusePaused(container);
    const fs = new ContainerFs(target);
    const install = await installPayload(fs, payload, {}, opts.progress);
    const lock = payload.lock && !opts.command
      ? substitute([payload.lock], { pid: target.nsPid, install: install.dir })[0]
      : undefined;
    if (lock) await refuseIfRunning(fs, lock, target.nsPid);
    const argv = substitute(opts.command ?? payload.loader.command, { pid: target.nsPid, install: install.dir });
    const uid = target.uidMap.toContainer(target.uid);
    const gid = target.gidMap.toContainer(target.gid);
    const process = spawnInTarget(target, {
      argv, program: ownCopy(payload, install, argv[0]), env: { ...payload.loader.env, ...opts.env }, keep: opts.detach,
      privileged: opts.privileged, stdio: ['ignore', opts.detach ? 'ignore' : 'pipe', 'pipe'],
    });
    const pid = await process.started;
    if (lock) await holdsLock(engine.clock, fs, lock, process, pid, opts.lockWaitMs ?? 5000);
    if (opts.detach) {
      // Let the engine exit: drop our ends of the helper's pipes and stop waiting for it.
      for (const i of [2, 4]) (process.child.stdio[i] as NodeJS.ReadableStream & { destroy(): void }).destroy();
      process.child.unref();
    }
    return {
      container,
      target: { pid: target.pid, nsPid: target.nsPid, uid, gid },
      payload: { name: payload.name, version: payload.version, hash: payload.hash },
      install,
      loader: { argv, pid },
      process,
    };
  } finally {
    target.close();
  }
}

/** The host file to run for argv[0] when it names one of the payload's installed files. */
function ownCopy(payload: Payload, install: Installed, program: string): string | undefined {
  return payload.files.find((f) => `${install.dir}/${f.path}` === program)?.source;
}

/**
 * Waits until the lock file names the loader (its PID as the container numbers it). A loader that
 * ends first lost a race with another (E_ALREADY_RUNNING) or failed (E_PAYLOAD, with its words).
 */
async function holdsLock(clock: Clock, fs: ContainerFs, lock: string, p: ExecProcess, hostPid: number,
  waitMs: number): Promise<void> {
  // What the loader says meanwhile is kept, to quote if it fails, and handed back if it starts.
  const stderr = p.child.stderr!;
  const said: Buffer[] = [];
  const keep = (b: Buffer) => said.push(b);
  stderr.on('data', keep);
  try {
    await confirm(clock, fs, lock, p, hostPid, waitMs, () => forTerminal(Buffer.concat(said).toString().trim()));
  } finally {
    stderr.off('data', keep);
    stderr.pause();
    if (said.length) stderr.unshift(Buffer.concat(said));
  }
}

async function confirm(clock: Clock, fs: ContainerFs, lock: string, p: ExecProcess, hostPid: number, waitMs: number,
  words: () => string): Promise<void> {
  let nsPid: number | undefined;
  try {
    nsPid = nsPidOf(hostPid);
  } catch {
    // Already gone (it lost a race for the lock): its end, below, says what happened.
  }
  let ended: { code: number | null; signal: string | null } | undefined;
  p.exited.then((e) => { ended = e; }, () => { ended = { code: null, signal: null }; });
  // The lock is a file inside the container: nothing to wait on but its content.
  const held = await pollUntil(clock, waitMs, 20,
    async () => !!ended || (nsPid !== undefined && (await lockHolder(fs, lock)) === nsPid));
  if (!ended) {
    if (held) return;
    p.child.kill('SIGTERM');
    throw new ScopeError('E_PAYLOAD',
      `the payload's loader did not take its lock ${lock} within ${waitMs} ms; it was stopped`);
  }
  await p.exited.catch(() => undefined); // its stderr is whole once it has ended
  const said = words();
  const holder = await lockHolder(fs, lock);
  if (holder && holder !== nsPid) {
    throw new ScopeError('E_ALREADY_RUNNING',
      `another loader (PID ${holder} in the container) took ${lock} first${said ? `: ${said}` : ''}`);
  }
  throw new ScopeError('E_PAYLOAD',
    `the payload's loader ended (${ended.signal ?? `status ${ended.code}`}) before it took its lock ` +
    `${lock}${said ? `: ${said}` : ''}`, { details: { status: ended.code, signal: ended.signal } });
}
