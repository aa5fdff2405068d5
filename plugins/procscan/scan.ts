/**
 * Containers found from /proc alone, with no runtime API: every process that is PID 1 of a PID
 * namespace below ours (its last NSpid entry is 1) is a container's init; its parent tells the
 * runtime (containerd-shim: containerd or docker; conmon: podman; the LXC monitor: LXC/LXD) and,
 * from its command line or the runtime's state files where readable, the container's ID and name.
 */
import { readdirSync, readFileSync } from 'node:fs';
import type { Container } from '../../sdk/index';

const read = (path: string): string | undefined => {
  try {
    return readFileSync(path, 'utf8');
  } catch {
    return undefined;
  }
};

function statusField(status: string, key: string): string[] {
  return status.split('\n').find((l) => l.startsWith(`${key}:`))?.slice(key.length + 1).trim().split(/\s+/) ?? [];
}

/** The value after a flag in an argv: `-id X`, `--name=X`. */
function flag(argv: string[], ...names: string[]): string | undefined {
  for (const [i, a] of argv.entries()) {
    for (const n of names) {
      if (a === n) return argv[i + 1];
      if (a.startsWith(`${n}=`)) return a.slice(n.length + 1);
    }
  }
  return undefined;
}

interface Identity {
  runtime: string;
  id: string;
  name: string;
  namespace?: string;
}

/** Who made the container whose init's parent is `ppid`. */
function identify(ppid: number, pid: number): Identity {
  const comm = (read(`/proc/${ppid}/comm`) ?? '').trim();
  const argv = (read(`/proc/${ppid}/cmdline`) ?? '').split('\0').filter(Boolean);
  if (comm.startsWith('containerd-shim')) {
    const id = flag(argv, '-id', '--id') ?? `pid-${pid}`;
    const namespace = flag(argv, '-namespace', '--namespace') ?? 'default';
    if (namespace === 'moby') {
      // Docker keeps the name in its state file, readable by root, read through the shim's root: the
      // host's, wherever the plugin runs (in a node agent's container too).
      const config = read(`/proc/${ppid}/root/var/lib/docker/containers/${id}/config.v2.json`);
      const name = config ? String(JSON.parse(config).Name ?? '').replace(/^\//, '') : '';
      return { runtime: 'docker', id, name: name || id, namespace };
    }
    return { runtime: 'containerd', id, name: id, namespace };
  }
  if (comm === 'conmon') {
    const id = flag(argv, '-c', '--cid') ?? `pid-${pid}`;
    return { runtime: 'podman', id, name: flag(argv, '-n', '--name') ?? id };
  }
  // LXC's monitor retitles itself "[lxc monitor] LXCPATH NAME".
  const monitor = /^\[lxc monitor\] (\S+) (\S+)/.exec(argv.join(' '));
  if (monitor) return { runtime: monitor[1].includes('/lxd/') ? 'lxd' : 'lxc', id: monitor[2], name: monitor[2] };
  return { runtime: 'unknown', id: `pid-${pid}`, name: `pid-${pid}` };
}

export function scanContainers(procRoot = '/proc'): Container[] {
  const found: Container[] = [];
  for (const entry of readdirSync(procRoot)) {
    if (!/^\d+$/.test(entry)) continue;
    const status = read(`${procRoot}/${entry}/status`);
    if (!status) continue;
    const nspid = statusField(status, 'NSpid');
    if (nspid.length < 2 || nspid[nspid.length - 1] !== '1') continue;
    const pid = Number(entry);
    const who = identify(Number(statusField(status, 'PPid')[0]), pid);
    found.push({
      runtime: 'procscan', id: who.id, name: who.name, state: 'running', pid, image: '',
      labels: { 'procscan/runtime': who.runtime, ...(who.namespace ? { 'procscan/namespace': who.namespace } : {}) },
    });
  }
  return found;
}
