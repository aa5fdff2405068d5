/**
 * LXD and Incus through their REST API on the unix socket (the same API; Incus is LXD's fork).
 * Socket search as their own clients do it: $LXD_SOCKET, $LXD_DIR/unix.socket, the snap's, the
 * package's; then $INCUS_SOCKET, $INCUS_DIR/unix.socket, /run/incus, /var/lib/incus.
 */
import { existsSync } from 'node:fs';
import { request } from 'node:http';
import { join } from 'node:path';
import { ScopeError } from '../../base/errors';
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

/** The sockets to try, in order, as the host names them. */
export function lxdSocketCandidates(env: Env): string[] {
  const c: (string | undefined)[] = [
    env.LXD_SOCKET, env.LXD_DIR && join(env.LXD_DIR, 'unix.socket'),
    '/var/snap/lxd/common/lxd/unix.socket', '/var/lib/lxd/unix.socket',
    env.INCUS_SOCKET, env.INCUS_DIR && join(env.INCUS_DIR, 'unix.socket'),
    '/run/incus/unix.socket', '/var/lib/incus/unix.socket',
  ];
  return c.filter((p): p is string => !!p);
}

export class LxdClient {
  /** The last time the daemon did not answer at all, and how; see get(). */
  private lastDown?: { at: number; error: ScopeError };

  constructor(readonly socketPath: string, private readonly project?: string,
    readonly timeoutMs = DEFAULT_DAEMON_TIMEOUT_MS) {}

  /** The first candidate socket that exists under the host's root, or undefined when none does. */
  static find(env: Env, hostRoot: HostRoot, project?: string, timeoutMs?: number): LxdClient | undefined {
    const path = lxdSocketCandidates(env).map((p) => hostRoot.path(p)).find((p) => existsSync(p));
    return path ? new LxdClient(path, project, timeoutMs) : undefined;
  }

  /** "lxd 5.0.2" or "incus 6.0". */
  async server(): Promise<{ name: string; version: string }> {
    const env = (await this.get<{ environment: { server?: string; server_version: string } }>('/1.0')).environment;
    return { name: env.server ?? 'lxd', version: env.server_version };
  }

  /** Every instance with its state (recursion=2). */
  instances(): Promise<LxdInstance[]> {
    return this.get<LxdInstance[]>('/1.0/instances', { recursion: '2' });
  }

  /** One instance with its state; E_NOT_FOUND when there is none by that name. */
  async instance(name: string): Promise<LxdInstance> {
    const path = `/1.0/instances/${encodeURIComponent(name)}`;
    const [inst, state] = await Promise.all([
      this.get<LxdInstance>(path),
      this.get<LxdInstance['state']>(`${path}/state`),
    ]);
    return { ...inst, state };
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
      const req = request({
        socketPath: this.socketPath, path: q ? `${path}?${q}` : path, timeout: this.timeoutMs,
      }, (res) => {
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
