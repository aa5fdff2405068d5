/**
 * The runtimes' own answers, for the recorder (record-fixtures.ts): what each runtime's command-line
 * tool says about its version, its containers and what a reference names, asked without any
 * adapter, to be saved beside the adapter's exchanges and hold the adapter to.
 */
import { execFileSync } from 'node:child_process';
import type { OwnAnswer, OwnContainer } from '../support/recorded';

export const sh = (cmd: string, args: string[]) =>
  execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] }).trim();
const lines = (s: string) => s.split('\n').map((l) => l.trim()).filter(Boolean);

export interface Own {
  version(): OwnAnswer;
  containers(): OwnAnswer;
  resolve(ref: string): OwnAnswer;
}

/**
 * Of `all`, the container that `ref` names exactly, else those whose ID begins with it (when
 * `prefixes`): one is what it names, none or several are candidates.
 */
function named(all: OwnContainer[], ref: string, said: string, exact: (c: OwnContainer) => boolean,
  prefixes: boolean): OwnAnswer {
  const hit = all.filter(exact);
  const matches = hit.length || !prefixes ? hit : all.filter((c) => c.id.startsWith(ref));
  return matches.length === 1 ? { said, container: matches[0] } : { said, candidates: matches.map((c) => c.id) };
}

/** docker and podman: inspect resolves names, IDs and prefixes itself; a reference it refuses, ps -a tells why. */
export function dockerOwn(tool: 'docker' | 'podman'): Own {
  const inspect = (refs: string[]): OwnContainer[] => (refs.length
    ? lines(sh(tool, ['container', 'inspect', '-f', '{{.Id}} {{.Name}} {{.State.Pid}}', ...refs])) : []).map((l) => {
    const [id, name, pid] = l.split(' ');
    return { id, name: name.replace(/^\//, ''), pid: Number(pid) };
  });
  const all = () => inspect(lines(sh(tool, ['ps', '-aq', '--no-trunc'])));
  return {
    version: () => ({ said: `${tool} version`, version: sh(tool, ['version', '-f', '{{.Server.Version}}']) }),
    containers: () => ({ said: `${tool} ps -a, ${tool} container inspect`, containers: all() }),
    resolve(ref) {
      try {
        return { said: `${tool} container inspect ${ref}`, container: inspect([ref])[0] };
      } catch {
        return named(all(), ref, `${tool} container inspect ${ref} (refused), ${tool} ps -a`, () => false, true);
      }
    },
  };
}

/** LXD, through its own client: instances by name alone. */
export function lxdOwn(): Own {
  const all = () => lines(sh('lxc', ['list', '-f', 'csv', '-c', 'n,p'])).map((l) => {
    const [name, pid] = l.split(',');
    return { id: name, name, pid: Number(pid) || 0 };
  });
  return {
    version: () => ({ said: 'lxd --version', version: sh('lxd', ['--version']) }),
    containers: () => ({ said: 'lxc list -c n,p', containers: all() }),
    resolve: (ref) => named(all(), ref, 'lxc list -c n,p', (c) => c.name === ref, false),
  };
}

/** Classic LXC: its tools, asked otherwise than the adapter asks them (one name a line, the PID alone). */
export function lxcClassicOwn(lxcpath: string): Own {
  const pidOf = (name: string) => Number(sh('lxc-info', ['-P', lxcpath, '-n', name, '-p', '-H'])) || 0;
  const all = () => lines(sh('lxc-ls', ['-P', lxcpath, '-1'])).map((name) => ({ id: name, name, pid: pidOf(name) }));
  return {
    version: () => ({ said: 'lxc-info --version', version: sh('lxc-info', ['--version']) }),
    containers: () => ({ said: 'lxc-ls -1, lxc-info -p', containers: all() }),
    resolve: (ref) => named(all(), ref, 'lxc-ls -1, lxc-info -p', (c) => c.name === ref, false),
  };
}

/**
 * containerd, through ctr, in the default namespace: ctr's containers are their IDs (an exact ID,
 * else an ID prefix); nerdctl's are those with its name label, found by that name or, for a hex
 * reference, an ID prefix, as nerdctl finds them.
 */
export function containerdOwn(nerdctl: boolean): Own {
  const ctr = (...args: string[]) => sh('ctr', ['-n', 'default', ...args]);
  const all = (): (OwnContainer & { labelled: boolean })[] => {
    const tasks = lines(ctr('task', 'ls')).slice(1).map((l) => l.split(/\s+/));
    const running = tasks.filter(([, , status]) => status === 'RUNNING');
    const pids = new Map(running.map(([id, pid]) => [id, Number(pid)]));
    return lines(ctr('containers', 'ls', '-q')).map((id) => {
      const label = nerdctl ? JSON.parse(ctr('containers', 'info', id)).Labels?.['nerdctl/name'] : undefined;
      return { id, name: label ?? id, pid: pids.get(id) ?? 0, labelled: label !== undefined };
    });
  };
  const said = `ctr containers ls, ${nerdctl ? 'ctr containers info (nerdctl/name), ' : ''}ctr task ls`;
  const strip = (cs: (OwnContainer & { labelled: boolean })[]) => cs.map(({ id, name, pid }) => ({ id, name, pid }));
  return {
    version: () => ({
      said: 'ctr version',
      version: /Server:\s*\n\s*Version:\s*(\S+)/.exec(sh('ctr', ['version']))![1],
    }),
    containers: () => ({ said, containers: strip(all().filter((c) => !nerdctl || c.labelled)) }),
    resolve(ref) {
      if (!nerdctl) return named(strip(all()), ref, said, (c) => c.id === ref, true);
      const hex = /^[0-9a-f]+$/.test(ref);
      return named(strip(all()), ref, said, (c) => c.name === ref || (hex && c.id.startsWith(ref)), false);
    },
  };
}

/**
 * CRI pods on the lab's containerd, through ctr in the k8s.io namespace (crictl is not packaged
 * here): a container's Kubernetes name from kubelet's labels, its sandbox left out by containerd's
 * own kind label, its PID from ctr's task list. References as the cri adapter takes them:
 * NAMESPACE/POD/CONTAINER, NAMESPACE/POD, POD (in default), an ID or a prefix of one.
 */
export function criOwn(): Own {
  const ctr = (...args: string[]) => sh('ctr', ['-n', 'k8s.io', ...args]);
  const all = (): (OwnContainer & { pod: string })[] => {
    const tasks = lines(ctr('task', 'ls')).slice(1).map((l) => l.split(/\s+/));
    const pids = new Map(tasks.filter(([, , status]) => status === 'RUNNING').map(([id, pid]) => [id, Number(pid)]));
    return lines(ctr('containers', 'ls', '-q')).flatMap((id) => {
      const labels = JSON.parse(ctr('containers', 'info', id)).Labels ?? {};
      if (labels['io.cri-containerd.kind'] !== 'container') return [];
      const pod = `${labels['io.kubernetes.pod.namespace']}/${labels['io.kubernetes.pod.name']}`;
      return [{ id, name: `${pod}/${labels['io.kubernetes.container.name']}`, pid: pids.get(id) ?? 0, pod }];
    });
  };
  const said = 'ctr -n k8s.io containers ls, containers info (kubelet\'s labels), task ls';
  const strip = (cs: (OwnContainer & { pod: string })[]) => cs.map(({ id, name, pid }) => ({ id, name, pid }));
  return {
    version: () => ({
      said: 'ctr version',
      version: /Server:\s*\n\s*Version:\s*(\S+)/.exec(sh('ctr', ['version']))![1],
    }),
    containers: () => ({ said, containers: strip(all()) }),
    resolve(ref) {
      const parts = ref.split('/');
      const pod = parts.length === 1 ? `default/${ref}` : parts.length === 2 ? ref : undefined;
      const byPod = pod ? all().filter((c) => c.pod === pod) : [];
      const exact = (c: OwnContainer) => c.name === ref || c.id === ref;
      return byPod.length ? named(strip(byPod), ref, said, () => true, false)
        : named(strip(all()), ref, said, exact, /^[0-9a-f]+$/.test(ref));
    },
  };
}
