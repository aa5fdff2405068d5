/**
 * LXD and Incus through their REST API on the unix socket (the same API; Incus is LXD's fork).
 * Socket search as their own clients do it: $LXD_SOCKET, $LXD_DIR/unix.socket, the snap's, the
 * package's; then $INCUS_SOCKET, $INCUS_DIR/unix.socket, /run/incus, /var/lib/incus.
 */
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ScopeError } from '../../base/errors';
import { plainRequest } from '../../base/plain-http';
import type { Env, HostRoot } from '../../core/tokens';
import { DEFAULT_DAEMON_TIMEOUT_MS } from '../../core/config/timeouts';

export interface LxdInstance {
  name: string;
  /** "container" or "virtual-machine". */
  type: string;
  status: string;
  config: Record<string, string>;
  state?: { pid: number; status: string } | null;
}

/**
 * The sockets to try, in order, as the host names them, each with the daemon's directory: its
 * liblxc containers live in DIR/containers, the lxcpath their command sockets are named after.
 * A socket given alone (LXD_SOCKET) is taken to be in the daemon's directory unless LXD_DIR says.
 */
export function lxdSocketCandidates(env: Env): { socket: string; dir: string }[] {
  const c: { socket?: string; dir?: string }[] = [
    { socket: env.LXD_SOCKET, dir: env.LXD_DIR },
    { socket: env.LXD_DIR && join(env.LXD_DIR, 'unix.socket'), dir: env.LXD_DIR },
    { socket: '/var/snap/lxd/common/lxd/unix.socket' }, { socket: '/var/lib/lxd/unix.socket' },
    { socket: env.INCUS_SOCKET, dir: env.INCUS_DIR },
    { socket: env.INCUS_DIR && join(env.INCUS_DIR, 'unix.socket'), dir: env.INCUS_DIR },
    { socket: '/run/incus/unix.socket', dir: '/var/lib/incus' }, { socket: '/var/lib/incus/unix.socket' },
  ];
  return c.filter((e): e is { socket: string; dir?: string } => !!e.socket)
    .map((e) => ({ socket: e.socket, dir: e.dir || dirname(e.socket) }));
}

export class LxdClient {
  /** The last time the daemon did not answer at all, and how; see get(). */
  private lastDown?: { at: number; error: ScopeError };

  /**
   * `socketPath` as the engine reaches it; `lxcpath`, where the daemon's containers are, as the
   * host names it (an abstract socket's name is the host's path, wherever the engine runs).
   */
  constructor(readonly socketPath: string, private readonly project?: string,
    readonly timeoutMs = DEFAULT_DAEMON_TIMEOUT_MS, readonly lxcpath = join(dirname(socketPath), 'containers')) {}

  /** The first candidate socket that exists under the host's root, or undefined when none does. */
  static find(env: Env, hostRoot: HostRoot, project?: string, timeoutMs?: number): LxdClient | undefined {
    const hit = lxdSocketCandidates(env).find((c) => existsSync(hostRoot.path(c.socket)));
    return hit && new LxdClient(hostRoot.path(hit.socket), project, timeoutMs, join(hit.dir, 'containers'));
  }

  /** The name liblxc knows an instance by: LXD prefixes the project's name, but for the default project's. */
  lxcName(name: string): string {
    return this.project && this.project !== 'default' ? `${this.project}_${name}` : name;
  }

  /** "lxd 5.0.2" or "incus 6.0". */
  async server(): Promise<{ name: string; version: string }> {
    const env = (await this.get<{ environment: { server?: string; server_version: string } }>('/1.0')).environment;
    return { name: env.server ?? 'lxd', version: env.server_version };
  }

  /**
   * Every instance, without its state (recursion=1): with it (recursion=2) the daemon gathers every
   * instance's network, disk and memory figures, 100 ms and more here, where the list needs one PID
   * per running container, which its monitor gives (lxc.ts).
   */
  instances(): Promise<LxdInstance[]> {
    return this.get<LxdInstance[]>('/1.0/instances', { recursion: '1' });
  }

  /** One instance, without its state (which costs the daemon tens of ms); E_NOT_FOUND when there is none. */
  instance(name: string): Promise<LxdInstance> {
    return this.get<LxdInstance>(`/1.0/instances/${encodeURIComponent(name)}`);
  }

  /** One instance's state: its PID among every statistic LXD gathers for it. */
  state(name: string): Promise<LxdInstance['state']> {
    return this.get<LxdInstance['state']>(`/1.0/instances/${encodeURIComponent(name)}/state`);
  }

  /**
   * A daemon that just failed to answer at all (its socket refused us, or nothing came back in
   * time) is not asked again for as long as one timeout: a probe and the resolve after it would
   * otherwise wait twice, and `--runtime auto` would pay for a dead LXD twice over.
   */
  private get<T>(path: string, query: Record<string, string> = {}): Promise<T> {
    const down = this.lastDown;
    if (down && Date.now() - down.at < this.timeoutMs) return Promise.reject(down.error);
    return this.request<T>(path, query).catch((err: ScopeError) => {
      if (err.code === 'E_RUNTIME_UNAVAILABLE') this.lastDown = { at: Date.now(), error: err };
      throw err;
    });
  }

  private request<T>(path: string, query: Record<string, string>): Promise<T> {
    const q = new URLSearchParams({ ...query, ...(this.project ? { project: this.project } : {}) }).toString();
    return new Promise<T>((resolve, reject) => {
      const options = { socketPath: this.socketPath, path: q ? `${path}?${q}` : path, timeout: this.timeoutMs };
      const req = plainRequest(options, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          let body: { type?: string; metadata?: T; error?: string; error_code?: number };
          try {
            body = JSON.parse(Buffer.concat(chunks).toString());
          } catch (err) {
            return reject(new ScopeError('E_RUNTIME_ERROR', `${this.socketPath} ${path}: not JSON`, { cause: err }));
          }
          if (body.type !== 'error') return resolve(body.metadata as T);
          const code = body.error_code === 404
            ? 'E_NOT_FOUND'
            : body.error_code === 403 ? 'E_PERMISSION' : 'E_RUNTIME_ERROR';
          reject(new ScopeError(code, `LXD ${path}: ${body.error}`));
        });
      });
      req.on('timeout', () => req.destroy(new ScopeError('E_RUNTIME_UNAVAILABLE',
        `LXD at ${this.socketPath} did not answer within ${this.timeoutMs} ms`)));
      req.on('error', (err) => reject(err instanceof ScopeError ? err : new ScopeError(
        (err as NodeJS.ErrnoException).code === 'EACCES' ? 'E_PERMISSION' : 'E_RUNTIME_UNAVAILABLE',
        `LXD at ${this.socketPath} is not answering: ${err.message}`, { cause: err })));
      req.end();
    });
  }
}
