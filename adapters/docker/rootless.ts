/**
 * Rootless docker (dockerd-rootless.sh): the daemon runs as a user, inside rootlesskit's user and
 * mount namespaces, listening at $XDG_RUNTIME_DIR/docker.sock, with its exec root beside the socket.
 * rootlesskit starts it in the host's PID namespace unless given --pidns; when it was, the PIDs the
 * API reports are numbers in that namespace and must be translated before anything acts on them.
 */
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ScopeError } from '../../base/errors';

/** Where the daemon behind `socketPath` keeps a container's OCI spec, if it is there. */
export function specPath(socketPath: string, id: string): string | undefined {
  const dir = dirname(socketPath);
  const execRoot = dir === '/var/run' || dir === '/run' ? '/run/docker' : join(dir, 'docker');
  const path = join(execRoot, 'containerd', 'daemon', 'io.containerd.runtime.v2.task', 'moby', id, 'config.json');
  return /^[0-9a-f]{64}$/.test(id) && existsSync(path) ? path : undefined;
}

/**
 * The host PID of what a rootless daemon calls `pid`: itself when the daemon shares our PID
 * namespace (rootlesskit's default), else the process below rootlesskit's child whose PID in the
 * child's namespace is `pid`.
 */
export function hostPid(socketPath: string, pid: number): number {
  if (pid <= 0) return pid;
  const childPidFile = join(dirname(socketPath), 'dockerd-rootlesskit', 'child_pid');
  let child: number;
  try {
    child = Number(readFileSync(childPidFile, 'utf8').trim());
  } catch {
    return pid; // not rootlesskit's daemon
  }
  if (!(child > 0) || sameInode(`/proc/${child}/ns/pid`, '/proc/self/ns/pid')) return pid;
  const level = nsPids(child).length - 1; // the child's own namespace, counted from ours
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const ids = nsPids(Number(entry));
    if (ids[level] === pid && descends(Number(entry), child)) return Number(entry);
  }
  throw new ScopeError('E_TARGET_GONE',
    `the rootless docker daemon reported PID ${pid} in its PID namespace, and no process below ${child} has it`);
}

function nsPids(pid: number): number[] {
  try {
    const line = readFileSync(`/proc/${pid}/status`, 'utf8').split('\n').find((l) => l.startsWith('NSpid:'));
    return line ? line.slice(6).trim().split(/\s+/).map(Number) : [];
  } catch {
    return [];
  }
}

/** Whether `pid` is `ancestor` or below it, through the parents /proc names. */
function descends(pid: number, ancestor: number): boolean {
  for (let p = pid, hops = 0; p > 1 && hops < 64; hops++) {
    if (p === ancestor) return true;
    try {
      p = Number(readFileSync(`/proc/${p}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[1]);
    } catch {
      return false;
    }
  }
  return false;
}

function sameInode(a: string, b: string): boolean {
  try {
    const [x, y] = [statSync(a), statSync(b)];
    return x.ino === y.ino && x.dev === y.dev;
  } catch {
    return false;
  }
}
