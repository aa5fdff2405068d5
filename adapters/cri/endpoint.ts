/**
 * Where the CRI runtime listens. Node agents' most common trouble is this path, which k3s, microk8s
 * and k0s move: so, as crictl does, CONTAINER_RUNTIME_ENDPOINT or the adapter's "endpoint" option
 * when given, else the first of the usual sockets that answers CRI's Version.
 */
import { ScopeError } from '../../base/errors';
import type { HostRoot } from '../../core/tokens';
import { parseEndpoint } from '../docker/endpoint';

/**
 * The usual sockets, in the order they are tried: the distributions' own first, plain containerd
 * (kubeadm's) last, since a node of k3s or microk8s may also run a containerd whose CRI has no pods.
 */
export const USUAL_SOCKETS: readonly { path: string; who: string }[] = [
  { path: '/run/k3s/containerd/containerd.sock', who: 'k3s' },
  { path: '/var/snap/microk8s/common/run/containerd.sock', who: 'microk8s' },
  { path: '/run/k0s/containerd.sock', who: 'k0s' },
  { path: '/run/crio/crio.sock', who: 'CRI-O' },
  { path: '/run/cri-dockerd.sock', who: 'cri-dockerd' },
  { path: '/run/containerd/containerd.sock', who: 'containerd' },
];

export interface Choice {
  /** A unix socket path. */
  socketPath: string;
  /** Why this one, for `scope-engine runtimes`. */
  why: string;
}

/** A socket path from `unix:///path` or `/path`, as DOCKER_HOST is read; the CRI runtime must be on this machine. */
export function socketOf(url: string, from: string): string {
  const path = parseEndpoint(url)?.socketPath;
  if (!path) {
    throw new ScopeError('E_PLUGIN_CONFIG',
      `${from} is ${JSON.stringify(url)}: give unix:///path/to.sock of a CRI runtime on this machine`);
  }
  return path;
}

/**
 * The endpoint a user named, if any: the "endpoint" option wins over CONTAINER_RUNTIME_ENDPOINT, as a flag over
 * the environment.
 */
export function namedEndpoint(option: unknown, variable: string | undefined): Choice | undefined {
  if (option !== undefined) {
    if (typeof option !== 'string') throw new ScopeError('E_PLUGIN_CONFIG',
      `option "endpoint" is ${JSON.stringify(option)}: give unix:///path`);
    return { socketPath: socketOf(option, 'option "endpoint"'), why: 'the adapter\'s "endpoint" option' };
  }
  if (variable) return { socketPath: socketOf(variable, 'CONTAINER_RUNTIME_ENDPOINT'),
    why: 'CONTAINER_RUNTIME_ENDPOINT' };
  return undefined;
}

/** The usual sockets, found under the host's root. */
export function usualSockets(hostRoot: HostRoot): { socketPath: string; who: string }[] {
  return USUAL_SOCKETS.map((s) => ({ socketPath: hostRoot.path(s.path), who: s.who }));
}
