/**
 * The main job, `scope-engine run`: pin the target, install a payload into its container as the
 * target's user, and start the payload's loader inside the container's namespaces as that user,
 * pointed at the target by its in-container PID (AppScope's first attach, without ptrace).
 */
import { spawnInTarget, type ExecProcess } from '../../native/exec';
import { ContainerFs } from '../../native/files';
import type { Engine } from '../engine';
import { installPayload, type Installed, type Progress } from '../payload/install';
import { loadPayload, substitute } from '../payload/manifest';
import type { Container } from '../runtime';
import { ScopeError } from '../errors';
import { openContainerTarget, refusePaused } from '../targets';

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
  let loaderPid: number;
  try {
    loaderPid = Number((await fs.read(lockPath, { maxBytes: 64 })).toString().trim());
  } catch {
    return; // never started here
  }
  if (!(loaderPid > 0)) return;
  const cmdline = await fs.read(`/proc/${loaderPid}/cmdline`, { uid: 0, gid: 0 }).catch(() => undefined);
  if (cmdline && cmdline.toString().split('\0').includes(String(nsPid))) {
    throw new ScopeError('E_ALREADY_RUNNING', `a payload already runs for PID ${nsPid} in this container (its loader is PID ` +
      `${loaderPid} there); use detach/reattach to steer it, or stop it first`, { details: { loaderPid, lock: lockPath } });
  }
}

export async function runPayload(engine: Engine, selector: string, ref: string, opts: RunOptions): Promise<RunResult> {
  const payload = loadPayload(opts.payloadDir);
  const { container, target } = await openContainerTarget(engine, selector, ref, opts.pid);
  try {
    refusePaused(container);
    const fs = new ContainerFs(target);
    const install = await installPayload(fs, payload, {}, opts.progress);
    if (payload.lock) await refuseIfRunning(fs, substitute([payload.lock], { pid: target.nsPid, install: install.dir })[0], target.nsPid);
    const argv = substitute(opts.command ?? payload.loader.command, { pid: target.nsPid, install: install.dir });
    const uid = target.uidMap.toContainer(target.uid);
    const gid = target.gidMap.toContainer(target.gid);
    const process = spawnInTarget(target, {
      argv, uid, gid, env: { ...payload.loader.env, ...opts.env }, keep: opts.detach, privileged: opts.privileged,
      stdio: opts.detach ? ['ignore', 'ignore', 'ignore'] : ['ignore', 'pipe', 'pipe'],
    });
    const pid = await process.started;
    if (opts.detach) {
      // Let the engine exit: drop our end of the helper's report pipe and stop waiting for it.
      (process.child.stdio[4] as NodeJS.ReadableStream & { destroy(): void }).destroy();
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
