/**
 * The lab's containers the benchmark enters (test/lab/setup.sh makes them), and for each the host
 * PID as the runtime's own tool reports it: the peers' side of every comparison starts from there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { needTools, output, Skip } from './spawn';

/** The built CLI, run as a user runs it: a new Node process with the user's environment as it is. */
export const CLI = join(__dirname, '..', 'cli', 'main.js');

export function cli(...args: string[]): string[] {
  if (!existsSync(CLI)) throw new Skip(`${CLI} is not built (npm run build)`);
  return [process.execPath, CLI, ...args];
}

export interface LabContainer {
  /** Names the comparison: docker, podman, ctr, lxd, lxc, cri. */
  key: string;
  /** scope-engine's runtime adapter for it. */
  runtime: string;
  /** The name scope-engine and the peer tool know it by. */
  ref: string;
  /** The peer tool the PID comes from. */
  tool: string;
  /** Its host PID from that tool; Skip when the tool or the running container is missing. */
  pid(): Promise<number>;
}

function running(what: string, text: string): number {
  const pid = Number(text);
  if (!Number.isInteger(pid) || pid <= 0) throw new Skip(`${what} is not running (its tool says PID "${text}")`);
  return pid;
}

/** ctr prints TASK PID STATUS: the PID of `id`'s task when it runs. */
async function ctrTaskPid(namespace: string, id: string): Promise<number> {
  const rows = (await output(['ctr', '-n', namespace, 'task', 'ls'])).split('\n').map((l) => l.split(/\s+/));
  const row = rows.find((r) => r[0] === id);
  return running(`ctr task ${id} (namespace ${namespace})`, row?.[2] === 'RUNNING' ? row[1] : '');
}

/** CRI's pods live in containerd namespace k8s.io; with no crictl, ctr finds one by the kubelet's labels. */
async function criPid(pod: string, name: string): Promise<number> {
  const [namespace, podName] = pod.split('/');
  const id = await output(['ctr', '-n', 'k8s.io', 'containers', 'ls', '-q',
    `labels."io.kubernetes.pod.namespace"==${namespace},labels."io.kubernetes.pod.name"==${podName},` +
    `labels."io.kubernetes.container.name"==${name}`]);
  if (!id || id.includes('\n')) throw new Skip(`CRI container ${pod}/${name}: ctr found "${id}"`);
  return ctrTaskPid('k8s.io', id);
}

export const LAB: LabContainer[] = [
  {
    key: 'docker', runtime: 'docker', ref: 'lab-web', tool: 'docker',
    async pid() {
      needTools('docker');
      return running('lab-web', await output(['docker', 'inspect', '-f', '{{.State.Pid}}', 'lab-web']));
    },
  },
  {
    key: 'podman', runtime: 'podman', ref: 'lab-pod', tool: 'podman',
    async pid() {
      needTools('podman');
      return running('lab-pod', await output(['podman', 'inspect', '-f', '{{.State.Pid}}', 'lab-pod']));
    },
  },
  {
    key: 'ctr', runtime: 'ctr', ref: 'lab-ctr', tool: 'ctr',
    async pid() {
      needTools('ctr');
      return ctrTaskPid('default', 'lab-ctr');
    },
  },
  {
    key: 'lxd', runtime: 'lxc', ref: 'lab-lxd', tool: 'lxc',
    async pid() {
      needTools('lxc');
      const state = JSON.parse(await output(['lxc', 'query', '/1.0/instances/lab-lxd/state']));
      return running('lab-lxd (LXD)', String(state.pid ?? ''));
    },
  },
  {
    key: 'lxc', runtime: 'lxc', ref: 'lab-lxc', tool: 'lxc-info',
    async pid() {
      needTools('lxc-info', 'lxc-attach');
      return running('lab-lxc (classic LXC)', await output(['lxc-info', '-n', 'lab-lxc', '-p', '-H']));
    },
  },
  {
    key: 'cri', runtime: 'cri', ref: 'scope-lab/lab-cri/web', tool: 'ctr -n k8s.io',
    async pid() {
      needTools('ctr');
      return criPid('scope-lab/lab-cri', 'web');
    },
  },
];

export function lab(key: string): LabContainer {
  return LAB.find((c) => c.key === key)!;
}
