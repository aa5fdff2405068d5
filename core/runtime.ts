/**
 * The contract every runtime adapter implements, built-in or third-party, in-process or not.
 * Shared types stay in this one small file so that an adapter author reads one page.
 */
import { promises as fsp } from 'node:fs';
import { ScopeError } from '../base/errors';

/** The container states adapters report, normalised from each runtime's own words. */
export type ContainerState = 'running' | 'paused' | 'created' | 'stopped' | 'restarting' | 'unknown';

/** One container, as every adapter describes it. */
export interface Container {
  /** The adapter that found it (the name it has in plugins.json). */
  runtime: string;
  /** The runtime's full ID (for LXC/LXD, which have none, the name). */
  id: string;
  /** The name users type, without docker's leading slash. */
  name: string;
  state: ContainerState;
  /** Host PID of the container's main process; 0 when it is not running. */
  pid: number;
  labels: Record<string, string>;
  /** Image reference, or '' when the runtime has none. */
  image: string;
  /** The user namespace's ID maps, when the runtime tells them (podman, LXD). */
  idMappings?: { uid: IdMapping[]; gid: IdMapping[] };
  /**
   * Path of the container's OCI runtime spec (config.json), as the engine reaches the host's files,
   * when the runtime keeps one: the seccomp profile its own exec applies, which an engine that cannot
   * read the live filter applies too.
   */
  spec?: string;
  /** The user whose rootless runtime runs it, when root finds it in that user's service. */
  user?: string;
  /** The Kubernetes pod it belongs to, when kubelet made it (cri). */
  pod?: { namespace: string; name: string; uid: string };
}

/** One line of a uid_map or gid_map: IDs inside..inside+count-1 are outside..outside+count-1 on the host. */
export interface IdMapping {
  inside: number;
  outside: number;
  count: number;
}

/** What probe() found out about a runtime on this machine. */
export interface ProbeResult {
  available: boolean;
  /** Why it is unavailable, e.g. "socket /var/run/docker.sock: no such file". */
  reason?: string;
  /** The runtime's version when it answered. */
  version?: string;
  /** How the adapter reaches the runtime: a socket, a tool, an API path. */
  endpoint?: string;
}

/** How a reference is being asked about. */
export interface Asked {
  /**
   * Every available runtime is being asked (`--runtime auto`): a short form that others could claim
   * as well (cri's POD, meaning a pod anyone may make in namespace default) is not answered.
   */
  auto?: boolean;
}

export interface ContainerRuntime {
  /** The adapter's name, as given with `--runtime`. */
  readonly name: string;
  /**
   * References the adapter takes besides names and IDs (cri's NAMESPACE/POD/CONTAINER), which the
   * engine otherwise refuses before they reach an API path. Optional.
   */
  readonly refPattern?: RegExp;
  /** Is the runtime reachable from here? Never throws: an unreachable runtime is a result. */
  probe(): Promise<ProbeResult>;
  /** Every container the runtime knows of, running or not. */
  list(): Promise<Container[]>;
  /**
   * The container a user means by `ref`: a name, a full ID or an unambiguous ID prefix.
   * Throws ScopeError E_NOT_FOUND, E_AMBIGUOUS or E_NOT_RUNNING (the last only when the container
   * exists but has no running process), or E_RUNTIME_UNAVAILABLE.
   */
  resolve(ref: string, asked?: Asked): Promise<Container>;
  /**
   * The PID of the main process of `container` (one this adapter's resolve() returned) as the
   * runtime reports it now, 0 when it has none: how the engine checks, once it has pinned
   * `container.pid`, that the container did not restart meanwhile. Optional: without it the engine
   * resolves `container.id` again and compares. Worth implementing only where it answers from the
   * same source as resolve() did for the PID, more cheaply; it fails as resolve() would.
   */
  currentPid?(container: Container): Promise<number>;
  /** Releases connections and child processes. Optional. */
  close?(): Promise<void>;
}

/**
 * Why a daemon's unix socket cannot be used, as probe() says it ("socket /run/x.sock: no such
 * file"), or undefined when it is there. Checked before dialling, so the reason names the file.
 */
export async function socketProblem(path: string): Promise<string | undefined> {
  try {
    await fsp.stat(path); // fs.promises loads on first use, fs/promises at start (1-2 ms)
    return undefined;
  } catch (err) {
    const errno = (err as NodeJS.ErrnoException).code;
    const why = errno === 'ENOENT' ? 'no such file' : errno === 'EACCES' ? 'permission denied' : (err as Error).message;
    return `socket ${path}: ${why}`;
  }
}

/** Throws E_NOT_RUNNING unless `c` has a live main process; what every adapter's resolve() ends with. */
export function requireRunning(c: Container): Container {
  if ((c.state === 'running' || c.state === 'paused') && c.pid > 0) return c;
  throw new ScopeError('E_NOT_RUNNING',
    `container ${c.name}${c.name === c.id ? '' : ` (${shortId(c.id)})`} is ${c.state}, not running; start it first`,
    { details: { container: c } });
}

/** Short form of a container ID, as docker prints it; IDs that are names (ctr, LXC) stay whole. */
export function shortId(id: string): string {
  return /^[0-9a-f]{64}$/.test(id) ? id.slice(0, 12) : id;
}

const METHODS = ['probe', 'list', 'resolve'] as const;

/** Says what is missing when `value` does not implement ContainerRuntime; undefined when it does. */
export function whyNotARuntime(value: unknown): string | undefined {
  if (value === null || typeof value !== 'object') return 'expected an object, got ' +
    `${value === null ? 'null' : typeof value}`;
  const v = value as Record<string, unknown>;
  if (typeof v.name !== 'string' || v.name === '') return 'it has no "name" string';
  const missing = METHODS.filter((m) => typeof v[m] !== 'function');
  if (missing.length) return `it has no ${missing.map((m) => `${m}()`).join(', ')} method`;
  return undefined;
}

/**
 * What `runtime` says the main PID of `container` is now: its currentPid(), else the PID of its ID
 * resolved again (0 when the ID now names another container).
 */
export function currentPidOf(runtime: ContainerRuntime, container: Container): Promise<number> {
  return runtime.currentPid ? runtime.currentPid(container) : pidResolvedAgain(runtime, container);
}

/** The PID of `container`'s ID resolved again by `runtime`, 0 when the ID now names another container. */
export async function pidResolvedAgain(runtime: Pick<ContainerRuntime, 'resolve'>, container: Container):
  Promise<number> {
  const again = await runtime.resolve(container.id);
  return again.id === container.id ? again.pid : 0;
}
