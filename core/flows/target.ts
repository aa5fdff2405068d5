/**
 * From "container web in docker" to a pinned process: resolve, pin the PID with a pidfd, then ask
 * the runtime again (its currentPid(), or resolve again). If it still reports the same PID, the
 * pidfd names the container's process and nothing can change that afterwards; if not, the container
 * restarted meanwhile and we say so rather than act on whatever process now has that PID.
 */
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { native } from '../../native/index';
import { sandboxOf } from '../../native/sandbox';
import { inHostPidNamespace, nsPidOf, Target } from '../../native/target';
import type { HostRoot } from '../../native/host-root';
import type { Engine } from '../engine';
import { ScopeError } from '../../base/errors';
import { currentPidOf, type Container } from '../runtime';

export interface OpenedTarget {
  container: Container;
  target: Target;
}

export async function openContainerTarget(engine: Engine, selector: string, ref: string,
  pid?: number): Promise<OpenedTarget> {
  const main = await openMainTarget(engine, selector, ref);
  if (pid === undefined) return main;
  // Another process of the container (--pid, as the container numbers it), found from the main one.
  try {
    return { container: main.container, target: openProcessInContainer(main.target, pid) };
  } finally {
    main.target.close();
  }
}

/**
 * exec, run and attach refuse a paused container, as docker exec does: its processes are frozen,
 * and so would be anything started in its cgroups. (The exec helper also checks the freezer
 * itself, for adapters that do not report the state.)
 */
export function refusePaused(container: Container): void {
  if (container.state === 'paused') {
    throw new ScopeError('E_NOT_RUNNING', `container ${container.name} is paused; unpause it first`,
      { details: { container } });
  }
}

/** Opens the container's target (see openContainerTarget), runs `fn` with it, and closes it whatever happens. */
export async function withContainerTarget<T>(engine: Engine, selector: string, ref: string, pid: number | undefined,
  fn: (opened: OpenedTarget) => Promise<T>): Promise<T> {
  const opened = await openContainerTarget(engine, selector, ref, pid);
  try {
    return await fn(opened);
  } finally {
    opened.target.close();
  }
}

async function openMainTarget(engine: Engine, selector: string, ref: string): Promise<OpenedTarget> {
  refuseOwnPidNamespace();
  const container = await engine.resolve(selector, ref);
  const target = Target.open(container.pid, { spec: container.spec });
  try {
    refuseSandbox(container, engine.hostRoot);
    refuseForeign(container, target, engine.caller.uid);
    const now = await currentPidOf(engine.runtime(container.runtime), container);
    if (now !== container.pid) {
      throw new ScopeError('E_TARGET_GONE', `container ${container.name} restarted while being opened ` +
        `(PID ${container.pid}, now ${now}); try again`);
    }
    return { container, target };
  } catch (err) {
    target.close();
    throw err;
  }
}

/**
 * Runtimes report PIDs of the host's PID namespace. An engine in a PID namespace of its own (in a
 * container started without --pid=host) sees other processes, or none, under those numbers: whatever
 * it did there would be done to the wrong process or fail halfway, so nothing is done at all.
 */
export function refuseOwnPidNamespace(): void {
  if (inHostPidNamespace()) return;
  throw new ScopeError('E_PERMISSION', 'scope-engine runs in a PID namespace of its own, where the PIDs runtimes ' +
    'report name other processes: run its container with --pid=host (docker, podman) or hostPID: true (Kubernetes)');
}

/**
 * A sandboxed container (gVisor, Kata) has no host process of its own to enter: the PID its runtime
 * reports is the sandbox's. Refused before any step, naming the sandbox, rather than failing halfway.
 */
export function refuseSandbox(container: Container, hostRoot: HostRoot): void {
  const sandbox = sandboxOf(container.pid, hostRoot);
  if (!sandbox) return;
  const where = sandbox.kind === 'gVisor' ? 'gVisor\'s user-space kernel' : 'a guest kernel';
  throw new ScopeError('E_UNSUPPORTED', `container ${container.name} runs in ${sandbox.kind} ` +
    `(${sandbox.how.join(', ')}): its processes live in ${where}, which no host namespace reaches; use the ` +
    'runtime\'s own exec (podman exec, docker exec, kubectl exec), or see scope-engine doctor',
  { details: { container: container.name, sandbox } });
}

/**
 * An engine without root can act only in user namespaces its user made (its rootless containers),
 * where the kernel gives it a capability over what is inside; anywhere else each step would fail
 * halfway, so the whole command is refused before the first.
 */
function refuseForeign(container: Container, target: Target, me: number): void {
  if (me === 0) return;
  const owner = native().userNsOwner(target.pid);
  if (owner === me && target.differing.includes('user')) return;
  const whose = !target.differing.includes('user') ? 'runs in the host\'s user namespace (a rootful container)'
    : `is in a user namespace made by UID ${owner}`;
  throw new ScopeError('E_PERMISSION',
    `container ${container.name} ${whose}; as UID ${me} scope-engine can enter only ` +
    'the rootless containers of its own user: run it as root for this one',
    { details: { container: container.name, owner, uid: me } });
}

/**
 * Another process of the same container, by the PID the container gives it (`--pid N`): the host
 * process in the main process's PID namespace whose last NSpid entry is N.
 */
export function openProcessInContainer(main: Target, nsPid: number): Target {
  if (nsPid === main.nsPid) return Target.open(main.pid, { startTime: main.startTime, spec: main.spec });
  const hit = processesOf(main).find((p) => p.nsPid === nsPid);
  if (hit) return Target.open(hit.pid, { spec: main.spec });
  throw new ScopeError('E_NOT_FOUND',
    `no process ${nsPid} in the container of PID ${main.pid} (PIDs as the container numbers them)`);
}

/** The processes in the main process's PID namespace: host PID, PID as the container numbers it, argv. */
export function processesOf(main: Target): { pid: number; nsPid: number; argv: string[] }[] {
  const pidNs = main.namespaces.pid;
  const out: { pid: number; nsPid: number; argv: string[] }[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const st = statSync(`/proc/${entry}/ns/pid`);
      if (st.ino !== pidNs?.ino || st.dev !== pidNs.dev) continue;
      const nsPid = nsPidOf(entry);
      if (nsPid !== undefined) out.push({
        pid: Number(entry), nsPid, argv: readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').slice(0, -1),
      });
    } catch {
      // exited while we looked
    }
  }
  return out;
}
