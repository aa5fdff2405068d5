/**
 * A target: one process, pinned with a pidfd, and what the engine needs to know of it to act inside
 * its container: its namespaces, its PID as the container sees it, its credentials and ID maps.
 * Everything read from /proc/PID is read after the pidfd was opened and checked before it is
 * trusted: if the process is still alive afterwards, the PID cannot have named anyone else meanwhile.
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import { constants as osConstants } from 'node:os';
import { lackingClause } from '../base/capabilities';
import { ScopeError } from '../base/errors';
import { IdMap } from '../base/idmap';
import { native } from './index';

export const NAMESPACES = ['mnt', 'pid', 'ipc', 'uts', 'net', 'cgroup', 'user', 'time'] as const;
export type Namespace = (typeof NAMESPACES)[number];

/** --ns LIST: names from NAMESPACES, at least one; an empty list would mean "join nothing": the host. */
export function parseNamespaces(text: string | undefined): Namespace[] | undefined {
  if (text === undefined) return undefined;
  const names = text.split(',').map((n) => n.trim());
  if (names.some((n) => !n)) {
    throw new ScopeError('E_USAGE',
      `invalid --ns "${text}": give namespaces separated by commas, from ${NAMESPACES.join(', ')}`);
  }
  const unknown = names.filter((n) => !(NAMESPACES as readonly string[]).includes(n));
  if (unknown.length) throw new ScopeError('E_USAGE',
    `invalid --ns "${text}": unknown ${unknown.join(', ')}; known: ${NAMESPACES.join(', ')}`);
  return names as Namespace[];
}

/** A namespace's identity: the inode (and device) of its /proc/PID/ns entry. */
export interface NsId {
  ino: number;
  dev: number;
}

/** A process pinned by a pidfd: what scope-engine acts on in a container, and what it learned of it when pinning. */
export class Target {
  private rootFdValue: number | undefined;
  private closed = false;

  private constructor(
    readonly pidfd: number,
    readonly pid: number,
    /** The PID as the container sees it: the last NSpid entry. */
    readonly nsPid: number,
    /** Host IDs of the process (real uid/gid) and its supplementary groups. */
    readonly uid: number,
    readonly gid: number,
    readonly groups: number[],
    /** Field 22 of /proc/PID/stat: with the PID, names one process for the machine's uptime. */
    readonly startTime: string,
    readonly namespaces: Partial<Record<Namespace, NsId>>,
    /** Namespaces where the target differs from the engine: what exec joins by default. */
    readonly differing: Namespace[],
    readonly uidMap: IdMap,
    readonly gidMap: IdMap,
    /** Host path of the container's OCI spec, when its runtime keeps one (see native/seccomp-profile.ts). */
    readonly spec?: string,
  ) {}

  /**
   * Pins `pid`. With `startTime` (from an earlier look), a process that has the PID but started at
   * another time is refused as a reused PID.
   */
  static open(pid: number, opts: { startTime?: string; spec?: string } = {}): Target {
    if (!Number.isInteger(pid) || pid <= 0) throw new ScopeError('E_USAGE', `invalid PID ${pid}`);
    const n = native();
    let pidfd: number;
    try {
      pidfd = n.pidfdOpen(pid);
    } catch (err) {
      throw gone(pid, err);
    }
    try {
      const status = readProc(pid, 'status');
      const startTime = readProc(pid, 'stat').replace(/^.*\) /s, '').split(' ')[19];
      const own = nsIds('self');
      const namespaces = nsIds(String(pid));
      const differing = NAMESPACES.filter((ns) => namespaces[ns] && own[ns] &&
        (namespaces[ns]!.ino !== own[ns]!.ino || namespaces[ns]!.dev !== own[ns]!.dev));
      const target = new Target(pidfd, pid, lastField(status, 'NSpid') ?? pid, firstField(status, 'Uid'),
        firstField(status, 'Gid'), fieldValues(status, 'Groups') ?? [], startTime, namespaces, differing,
        IdMap.parse(readProc(pid, 'uid_map'), 'uid'), IdMap.parse(readProc(pid, 'gid_map'), 'gid'), opts.spec);
      target.assertAlive();
      if (opts.startTime !== undefined && opts.startTime !== startTime) {
        throw new ScopeError('E_TARGET_GONE', `PID ${pid} has been reused: it now names a process started at ` +
          `${startTime}, not ${opts.startTime}`);
      }
      return target;
    } catch (err) {
      n.closeFd(pidfd);
      throw err instanceof ScopeError ? err : gone(pid, err);
    }
  }

  /** Throws E_TARGET_GONE once the pinned process has exited. */
  assertAlive(): void {
    if (this.closed) throw new ScopeError('E_INTERNAL', `target ${this.pid} was used after close()`);
    if (!native().pidfdAlive(this.pidfd)) {
      throw new ScopeError('E_TARGET_GONE', `process ${this.pid} has exited`, { details: { pid: this.pid } });
    }
  }

  /** Signals the pinned process (never another that took its PID). */
  signal(sig: NodeJS.Signals): void {
    native().pidfdSignal(this.pidfd, osConstants.signals[sig]);
  }

  /** Whether the pinned process still runs. */
  alive(): boolean {
    return !this.closed && native().pidfdAlive(this.pidfd);
  }

  /** The target's root directory (O_PATH), opened once, checked against the pidfd. */
  rootFd(): number {
    if (this.rootFdValue === undefined) {
      try {
        this.rootFdValue = native().openRoot(this.pid);
      } catch (err) {
        throw gone(this.pid, err);
      }
      try {
        this.assertAlive();
      } catch (err) {
        native().closeFd(this.rootFdValue);
        this.rootFdValue = undefined;
        throw err;
      }
    }
    return this.rootFdValue;
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    if (this.rootFdValue !== undefined) native().closeFd(this.rootFdValue);
    native().closeFd(this.pidfd);
  }
}

function readProc(pid: number, file: string): string {
  return readFileSync(`/proc/${pid}/${file}`, 'utf8');
}

/**
 * The namespaces of a process. Only a namespace type the kernel lacks (time before 5.6) may be
 * missing: one we cannot read is an error, never "the same as ours", or exec would run on the host.
 */
function nsIds(who: string): Partial<Record<Namespace, NsId>> {
  const out: Partial<Record<Namespace, NsId>> = {};
  for (const ns of NAMESPACES) {
    const path = `/proc/${who}/ns/${ns}`;
    try {
      const st = statSync(path);
      out[ns] = { ino: st.ino, dev: st.dev };
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' && existsSync(`/proc/${who}/ns`)) continue;
      if (code === 'ESRCH' || code === 'ENOENT') throw err;
      throw new ScopeError('E_PERMISSION',
        `cannot read the ${ns} namespace of ${who === 'self' ? 'the engine' : `process ${who}`} ` +
        `(${path}: ${code}); reading another user's namespaces needs CAP_SYS_PTRACE` +
        (lackingClause(['SYS_PTRACE']) ? `, and ${lackingClause(['SYS_PTRACE'])}` : ''),
        { cause: err, details: { namespace: ns, errno: code } });
    }
  }
  return out;
}

function fieldValues(status: string, key: string): number[] | undefined {
  const line = status.split('\n').find((l) => l.startsWith(`${key}:`));
  return line?.slice(key.length + 1).trim().split(/\s+/).filter(Boolean).map(Number);
}

/** A process's PID as its own PID namespace numbers it: the last NSpid entry of /proc/PID/status. */
export function nsPidOf(pid: number | string): number | undefined {
  return lastField(readFileSync(`/proc/${pid}/status`, 'utf8'), 'NSpid');
}

/** The inode of the machine's first PID namespace, fixed by the kernel (PROC_PID_INIT_INO, linux/proc_ns.h). */
const HOST_PID_NS_INO = 0xeffffffc;

/**
 * Whether this process is in the machine's first PID namespace. Not from NSpid: a container's own
 * /proc (--mount-proc, a runtime's) shows only the levels from its namespace down, one number.
 */
export function inHostPidNamespace(): boolean {
  return statSync('/proc/self/ns/pid').ino === HOST_PID_NS_INO;
}

function lastField(status: string, key: string): number | undefined {
  return fieldValues(status, key)?.at(-1);
}

function firstField(status: string, key: string): number {
  const v = fieldValues(status, key)?.[0];
  if (v === undefined) throw new ScopeError('E_INTERNAL', `/proc status has no ${key} line`);
  return v;
}

function gone(pid: number, err: unknown): ScopeError {
  const code = (err as NodeJS.ErrnoException).code;
  if (code === 'ESRCH' || code === 'ENOENT') {
    return new ScopeError('E_TARGET_GONE', `process ${pid} has exited`, { cause: err, details: { pid } });
  }
  if (code === 'EACCES' || code === 'EPERM') {
    // Root without CAP_SYS_PTRACE (a container's root) is refused as well: "run as root" would not help it.
    const lacking = process.geteuid?.() === 0 ? lackingClause(['SYS_PTRACE']) : '';
    return new ScopeError('E_PERMISSION', `process ${pid}: ${(err as Error).message}; ` +
      (lacking ? `opening another user's process needs CAP_SYS_PTRACE, and ${lacking}` : 'run as root'),
    { cause: err });
  }
  return new ScopeError('E_INTERNAL', `opening process ${pid}: ${(err as Error).message}`, { cause: err });
}
