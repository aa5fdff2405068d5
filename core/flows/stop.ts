/**
 * `scope-engine stop`: ends the payload the engine started in a container and removes its install.
 * The loader is found through its lock file (the PID it noted there), pinned with a pidfd and
 * checked to be this payload's loader for that target before it is signalled: never by name, so
 * other users' probes, and processes that merely share the name, are never touched.
 */
import { ContainerFs } from '../../native/files';
import type { Target } from '../../native/target';
import type { Engine } from '../engine';
import { ScopeError } from '../../base/errors';
import { checkBase, INSTALL_BASES, MARKER } from '../payload/install';
import { loadPayload, substitute, type Payload } from '../payload/manifest';
import type { Container } from '../runtime';
import { openContainerTarget, openProcessInContainer, processesOf } from './target';
import { pollUntil } from './poll';
import { lockHolder } from './run';
import type { Clock } from '../tokens';

export interface StopOptions {
  payloadDir?: string;
  /** The target as the container numbers it; default the container's main process. */
  pid?: number;
  /** Every loader of this payload in the container, whatever its target. */
  all?: boolean;
  /** Leave the install (and the reports in it) in place. */
  keep?: boolean;
  /** How long a loader has to end after SIGTERM before SIGKILL; default 5000 ms. */
  graceMs?: number;
}

export interface StopResult {
  container: Container;
  /** The loaders ended: PIDs as the container numbers them, and the target each watched. */
  stopped: { loader: number; target: number }[];
  /** Install directories removed. */
  removed: string[];
}

export async function stopPayload(engine: Engine, selector: string, ref: string,
  opts: StopOptions): Promise<StopResult> {
  const payload = loadPayload(opts.payloadDir && engine.hostRoot.userPath(opts.payloadDir));
  if (!payload.lock) throw new ScopeError('E_PAYLOAD',
    `payload ${payload.name} keeps no lock file, so its loader cannot be told from others`);
  const { container, target } = await openContainerTarget(engine, selector, ref, opts.all ? undefined : opts.pid);
  try {
    const fs = new ContainerFs(target);
    const stopped: StopResult['stopped'] = [];
    // Every loader first, in every base: a base that cannot be cleaned must not leave one running.
    for (const base of INSTALL_BASES) {
      const dir = `${base}/${payload.version}`;
      const targets = opts.all ? watched(target, payload, dir) : [target.nsPid];
      for (const watchedPid of targets) {
        const loader = await lockHolder(fs, substitute([payload.lock], { pid: watchedPid, install: dir })[0]);
        if (loader && (await end(engine.clock, target, payload, dir, loader, watchedPid,
          opts.graceMs ?? 5000))) stopped.push({ loader, target: watchedPid });
      }
    }
    const removed: string[] = [];
    const left: string[] = [];
    for (const base of opts.keep ? [] : INSTALL_BASES) {
      const dir = `${base}/${payload.version}`;
      if (watched(target, payload, dir).length) continue; // still in use by a loader for another target
      const owner = await installOwner(fs, base, dir);
      if (owner === undefined) continue;
      try {
        await fs.removeTree(dir, { uid: owner, gid: 0 });
        removed.push(dir);
        await fs.unlink(base, { uid: 0, gid: 0 }).catch(() => undefined); // only if nothing else is in it
      } catch (err) {
        left.push(`${dir}: ${(err as Error).message}`);
      }
    }
    if (left.length) {
      throw new ScopeError('E_FILE',
        `${stopped.length} loader(s) stopped, but not every install could be removed: ${left.join('; ')}`,
        { details: { stopped, removed } });
    }
    return { container, stopped, removed };
  } finally {
    target.close();
  }
}

/**
 * The container user an install belongs to, or undefined when `dir` is none of ours to remove: only
 * a directory (not a symlink) of the target's user (whom the engine installs as) holding the
 * engine's marker, in a base that passes the install's own check. It is removed as that user.
 */
async function installOwner(fs: ContainerFs, base: string, dir: string): Promise<number | undefined> {
  const user = fs.ownerUid();
  const st = await fs.stat(dir, { uid: 0, gid: 0 }).catch(() => undefined);
  if (st?.type !== 'directory' || !fs.ownedBy(st, user)) return undefined;
  if ((await fs.stat(`${dir}/${MARKER}`, { uid: 0, gid: 0 }).catch(() => undefined))?.type !== 'file') return undefined;
  return (await checkBase(fs, base, { uid: user }).then(() => true, () => false)) ? user : undefined;
}

/** The targets (PIDs as the container numbers them) of this payload's loaders running from `dir`. */
function watched(main: Target, payload: Payload, dir: string): number[] {
  const loaders = new Set(payload.files.map((f) => `${dir}/${f.path}`));
  const out: number[] = [];
  for (const p of processesOf(main)) {
    if (!loaders.has(p.argv[0])) continue;
    const i = p.argv.indexOf('--pid');
    if (i >= 0 && /^\d+$/.test(p.argv[i + 1] ?? '')) out.push(Number(p.argv[i + 1]));
  }
  return out;
}

/**
 * Pins the process the lock names and ends it, if it is this payload's loader for `watchedPid`:
 * SIGTERM, then SIGKILL after `graceMs`. False when the lock was stale (no such loader runs).
 */
async function end(clock: Clock, main: Target, payload: Payload, dir: string, loader: number, watchedPid: number,
  graceMs: number): Promise<boolean> {
  let proc: Target;
  try {
    proc = openProcessInContainer(main, loader);
  } catch {
    return false; // the lock outlived its loader
  }
  try {
    const argv = substitute(payload.loader.command, { pid: watchedPid, install: dir });
    const cmdline = processesOf(main).find((p) => p.pid === proc.pid)?.argv ?? [];
    if (cmdline[0] !== argv[0] || !cmdline.includes(String(watchedPid))) return false;
    proc.signal('SIGTERM');
    for (const [sig, ms] of [['SIGKILL', graceMs], [undefined, 2000]] as const) {
      if (await pollUntil(clock, ms, 20, () => !proc.alive())) return true;
      if (sig) proc.signal(sig);
    }
    throw new ScopeError('E_INTERNAL', `loader PID ${loader} in the container did not end after SIGKILL`);
  } finally {
    proc.close();
  }
}
