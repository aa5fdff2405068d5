/**
 * Where the host's files are, for an engine that may run in a container (a node agent): the host's
 * root mounted somewhere (`-v /:/hostfs`, a hostPath volume), or "/" on the host itself. Host paths
 * (runtime sockets, /run/user, /etc/passwd, an lxcpath) are resolved inside it as the host resolves
 * them, absolute links included, by the kernel (openat2 RESOLVE_IN_ROOT), never by joining strings:
 * /hostfs/var/run is a link to /run, which a join would follow into the engine container's own /run.
 */
import { lstatSync, readFileSync, readlinkSync, statSync, type Stats } from 'node:fs';
import { basename, dirname, join, posix } from 'node:path';
import { ScopeError } from '../base/errors';
import { native } from './index';
import { inHostPidNamespace } from './target';

/** How the engine sees the host's files. */
export class HostRoot {
  private found?: Found;

  /**
   * `given`: the host's root as mounted here (--host-root), checked at once so that a wrong one is a
   * usage error before anything is done, unless `check` is false (a test's stand-in for a host);
   * undefined: found when first needed (see detect()).
   */
  constructor(given?: string, { check = true } = {}) {
    if (given !== undefined) this.found = { dir: check ? checkGiven(given) : given, visible: true, known: true };
  }

  /** The host's root as the engine reaches it: "/" on the host. */
  get dir(): string {
    return this.look().dir;
  }

  /**
   * False when the engine runs in a container that has no mount of the host's root: the "host"
   * paths it reads are then its container's own, and a socket missing there says nothing of the host.
   */
  get visible(): boolean {
    return this.look().visible;
  }

  /** Whether the engine runs in a container: its files, and the tools installed there, are not the host's. */
  get contained(): boolean {
    return this.dir !== '/' || !this.visible;
  }

  /**
   * Where the host's absolute `path` is, here. A path that does not resolve (a missing file) comes
   * back as its deepest existing directory, resolved, with the rest joined to it: still a path that
   * does not exist, never one that an absolute link took out of the root.
   */
  path(path: string): string {
    const dir = this.dir;
    if (dir === '/') return path;
    return resolveIn(dir, posix.normalize(`/${path}`));
  }

  /**
   * A path the user gave (cp's source, --payload, --host-binary), which names the engine's own files,
   * except that one under the host's root is resolved in it as the host would: /hostfs/usr/bin/x,
   * a link to /usr/bin/y, is the host's /usr/bin/y, not the engine container's.
   */
  userPath(path: string): string {
    const dir = this.dir;
    if (dir === '/' || !path.startsWith(`${dir}/`)) return path;
    return resolveIn(dir, path.slice(dir.length));
  }

  /**
   * Whether that was told, or assumed: no process of the host could be read (a root engine in a
   * container without CAP_SYS_PTRACE), so the engine was taken to be on the host.
   */
  get known(): boolean {
    return this.look().known;
  }

  private look(): Found {
    this.found ??= detect();
    return this.found;
  }
}

/** Links followed by hand before giving up, as the kernel's own limit (ELOOP). */
const MAX_LINKS = 40;

/**
 * `path` resolved in `dir`; a missing one as its parent, resolved, and its name. A link whose
 * target is missing is followed by hand, in the root: returned as it is, its name would lead out.
 */
function resolveIn(dir: string, path: string, links = 0): string {
  try {
    return native().resolveInRoot(dir, path);
  } catch (err) {
    if ((err as ScopeError).code === 'E_NATIVE_MISSING') throw err;
    if (path === '/') return dir;
    const here = join(resolveIn(dir, dirname(path), links), basename(path));
    const st = lstatSync(here, { throwIfNoEntry: false });
    if (!st) return here;
    if (!st.isSymbolicLink() || links >= MAX_LINKS) {
      throw new ScopeError('E_FILE', `the host's ${path} (under ${dir}): ${(err as Error).message}`, { cause: err });
    }
    const to = readlinkSync(here);
    return resolveIn(dir, posix.normalize(to.startsWith('/') ? to : posix.join(dirname(path), to)), links + 1);
  }
}

const same = (a: Stats, b: Stats) => a.dev === b.dev && a.ino === b.ino;

/** A process of the host and its root. */
interface HostProcess {
  pid: number;
  root: Stats;
}

/**
 * A process that sees the host: PID 1, or where its root cannot be read (a PID 1 holding a
 * capability the engine lacks is beyond ptrace's reach), the nearest ancestor whose root is not the
 * engine's: the runtime's shim or monitor that started the engine's container, or the engine itself
 * when every ancestor shares its root. Undefined when that cannot be told.
 */
function hostProcess(): HostProcess | undefined {
  // Asked by detection, --host-root's check and the namespace checks: the ancestors are walked once.
  if (!walked) {
    walkedTo = findHostProcess();
    walked = true;
  }
  return walkedTo;
}

let walked = false;
let walkedTo: HostProcess | undefined;

function findHostProcess(): HostProcess | undefined {
  if (!inHostPidNamespace()) return undefined;
  try {
    return { pid: 1, root: statSync('/proc/1/root/') };
  } catch {
    // PID 1 is out of reach: the ancestors tell
  }
  const own = statSync('/');
  let pid = process.ppid;
  for (; pid > 1; pid = parentOf(pid)) {
    try {
      const root = statSync(`/proc/${pid}/root/`);
      if (!same(root, own)) return { pid, root };
    } catch {
      return undefined;
    }
  }
  // Every ancestor up to PID 1 shares the engine's root: the engine is on the host.
  return pid === 1 ? { pid: process.pid, root: own } : undefined;
}

/** A process of the host outside the engine's container, for running the host's own tools there; undefined on the host. */
export function hostProcessPid(): number | undefined {
  const host = hostProcess();
  return host && !same(host.root, statSync('/')) ? host.pid : undefined;
}

function parentOf(pid: number): number {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
  } catch {
    return 0;
  }
}

/**
 * On the host, "/". In a container (its root is not the host's), the mount point that is the
 * host's root, if one is mounted; else the container's own "/", not visible. When no process of the
 * host can be read, the engine is taken to be on the host, as before.
 */
interface Found {
  dir: string;
  visible: boolean;
  known: boolean;
}

function detect(): Found {
  const host = hostProcess()?.root;
  if (!host) return { dir: '/', visible: true, known: false };
  if (same(host, statSync('/'))) return { dir: '/', visible: true, known: true };
  for (const point of mountPoints()) {
    try {
      if (point !== '/' && same(statSync(point), host)) return { dir: point, visible: true, known: true };
    } catch {
      // a mount point this user cannot reach is not the host's root
    }
  }
  return { dir: '/', visible: false, known: true };
}

/** The mount points of this mount namespace, shortest first (a host root is mounted near the top). */
function mountPoints(): string[] {
  const points = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').map((l) => l.split(' ')[4])
    .filter((p): p is string => !!p)
    .map((p) => p.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8))));
  return [...new Set(points)].sort((a, b) => a.length - b.length);
}

/** --host-root DIR: an absolute directory that, where that can be told, is the host's root. */
function checkGiven(dir: string): string {
  if (!dir.startsWith('/')) throw new ScopeError('E_USAGE', `--host-root "${dir}" is not an absolute path`);
  let st: Stats;
  try {
    st = statSync(dir);
  } catch (err) {
    throw new ScopeError('E_USAGE', `--host-root ${dir}: ${(err as Error).message}; mount the host's / there ` +
      '(docker run -v /:/hostfs:ro ... --host-root /hostfs)', { cause: err });
  }
  if (!st.isDirectory()) throw new ScopeError('E_USAGE', `--host-root ${dir} is not a directory`);
  // Outside the host's PID namespace no process of the host can be seen: the targets will be
  // refused for that (E_PERMISSION), and this cannot be told.
  const host = hostProcess()?.root;
  if (host && !same(host, st)) {
    throw new ScopeError('E_USAGE', `--host-root ${dir} is not the host's root (the host's processes ` +
      'have another root): mount the host\'s / there (-v /:/hostfs:ro), and run in the host\'s PID namespace ' +
      '(--pid=host)');
  }
  return dir.replace(/\/+$/, '') || '/';
}

/**
 * Whether the engine is in the host's `ns` namespace: true when that cannot be told (no process of
 * the host can be read; outside the host's PID namespace that refusal comes first).
 */
export function inHostNamespace(ns: 'net'): boolean {
  const host = hostProcess();
  try {
    return !host || readlinkSync(`/proc/${host.pid}/ns/${ns}`) === readlinkSync(`/proc/self/ns/${ns}`);
  } catch {
    return true;
  }
}
