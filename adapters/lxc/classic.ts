/**
 * Classic LXC through liblxc's own tools (lxc-ls, lxc-info) with -P LXCPATH: the listing, the
 * probe, and whatever a container's monitor cannot tell directly (monitor.ts asks it first, since
 * a tool costs a process). execFile, never a shell.
 */
import { homedir } from 'node:os';
import { join } from 'node:path';
import { ScopeError } from '../../base/errors';
import type { ToolError } from '../../base/tool';
import type { Env, Spawn } from '../../core/tokens';

export const DEFAULT_LXCPATH = '/var/lib/lxc';

/** LXC's own default: the system path for root, the user's data directory for anyone else (unprivileged containers). */
export function defaultLxcpath(env: Env, uid: number): string {
  if (uid === 0) return DEFAULT_LXCPATH;
  return join(env.XDG_DATA_HOME || join(env.HOME || homedir(), '.local', 'share'), 'lxc');
}
export interface ClassicContainer {
  name: string;
  /** RUNNING, STOPPED, FROZEN, ... */
  state: string;
  pid: number;
}

/** What lxc-info's "doesn't exist" becomes. */
export function classicNotFound(name: string, lxcpath: string): ScopeError {
  return new ScopeError('E_NOT_FOUND', `no LXC container "${name}" in ${lxcpath} (another lxcpath? --lxcpath DIR)`);
}

export class ClassicLxc {
  /**
   * `env` is the environment the tools run in (their PATH). `unreachable`: why the host's classic
   * LXC cannot be asked from where the engine runs; every call then fails saying so.
   */
  constructor(readonly lxcpath: string, private readonly env: Env, private readonly spawn: Spawn,
    readonly unreachable?: string) {}

  async version(): Promise<string> {
    return (await this.run('lxc-info', ['--version'])).trim();
  }

  async list(): Promise<ClassicContainer[]> {
    const out = await this.run('lxc-ls', ['-P', this.lxcpath, '--fancy', '--fancy-format', 'NAME,STATE,PID']);
    return out.split('\n').slice(1).map((l) => l.trim().split(/\s+/)).filter((f) => f.length === 3 && f[0])
      .map(([name, state, pid]) => ({ name, state, pid: /^\d+$/.test(pid) ? Number(pid) : 0 }));
  }

  /** E_NOT_FOUND when lxc-info says the container "doesn't exist". */
  async info(name: string): Promise<ClassicContainer> {
    let out: string;
    try {
      out = await this.run('lxc-info', ['-P', this.lxcpath, '-n', name, '-s', '-p', '-H']);
    } catch (err) {
      if (/doesn't exist/.test((err as ToolError).stderr ?? '')) throw classicNotFound(name, this.lxcpath);
      throw err;
    }
    const field = (key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(out)?.[1];
    const pid = field('PID');
    return { name, state: field('State') ?? 'UNKNOWN', pid: pid ? Number(pid) : 0 };
  }

  private run(cmd: string, args: string[]): Promise<string> {
    if (this.unreachable) return Promise.reject(new ScopeError('E_RUNTIME_UNAVAILABLE', this.unreachable));
    return this.spawn(cmd, args, { env: this.env, installHint: 'apt-get install lxc' });
  }
}
