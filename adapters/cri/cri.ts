/**
 * The cri adapter: containers kubelet made, through the Container Runtime Interface, named as
 * Kubernetes names them. References: NAMESPACE/POD/CONTAINER; NAMESPACE/POD (the pod's only
 * container); POD (in namespace "default"); a container ID or a unique prefix of one. The PID is the
 * one the runtime's verbose ContainerStatus gives (info.info.pid, else the older info.pid), as
 * crictl inspect and inspektor-gadget read it; a pod's sandbox (pause) container is never a result.
 */
import { existsSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';
import { ScopeError } from '../../base/errors';
import {
  requireRunning, shortId, type Asked, type Container, type ContainerRuntime, type ContainerState, type ProbeResult
} from '../../core/runtime';
import { Env, HostRoot, Options } from '../../core/tokens';
import { daemonTimeoutMs } from '../options';
import { CriClient, type CriContainer, type CriState, type CriStatus } from './client';
import { notOwned } from '../owned-socket';
import { namedEndpoint, usualSockets, type Choice } from './endpoint';

/** The labels kubelet puts on every container it creates (the runtime adds none). */
export const POD_NAMESPACE = 'io.kubernetes.pod.namespace';
export const POD_NAME = 'io.kubernetes.pod.name';
export const POD_UID = 'io.kubernetes.pod.uid';
export const CONTAINER_NAME = 'io.kubernetes.container.name';

const STATES: Record<CriState, ContainerState> = {
  CONTAINER_CREATED: 'created', CONTAINER_RUNNING: 'running', CONTAINER_EXITED: 'stopped', CONTAINER_UNKNOWN: 'unknown',
};

/** Kubernetes names (lower-case DNS labels and subdomains) joined by one or two slashes, besides names and IDs. */
export const CRI_REF = /^[a-z0-9][a-z0-9.-]{0,252}(\/[a-z0-9][a-z0-9.-]{0,252}){1,2}$/;

interface Connected {
  client: CriClient;
  choice: Choice;
  version: string;
}

@injectable()
export class CriRuntime implements ContainerRuntime {
  readonly name = 'cri';
  readonly refPattern = CRI_REF;
  private readonly named?: Choice;
  /** A CONTAINER_RUNTIME_ENDPOINT that is no address: only this runtime is unavailable, saying why. */
  private readonly problem?: string;
  private readonly timeoutMs: number;
  private connection?: Promise<Connected>;

  constructor(@inject(Options) options: Options, @inject(Env) env: Env,
    @inject(HostRoot) private readonly hostRoot: HostRoot) {
    this.timeoutMs = daemonTimeoutMs(options, env);
    try {
      const named = namedEndpoint(options.endpoint, env.CONTAINER_RUNTIME_ENDPOINT);
      this.named = named && { ...named, socketPath: hostRoot.path(named.socketPath) };
    } catch (err) {
      if (options.endpoint !== undefined) throw err;
      this.problem = (err as Error).message;
    }
  }

  async probe(): Promise<ProbeResult> {
    try {
      const c = await this.connect();
      return { available: true, version: c.version, endpoint: `unix://${c.choice.socketPath} (${c.choice.why})` };
    } catch (err) {
      return { available: false, reason: (err as Error).message };
    }
  }

  async list(): Promise<Container[]> {
    const { client } = await this.connect();
    const found = workloads(await client.listContainers());
    return Promise.all(found.map(async (c) =>
      this.toContainer(c, await client.containerStatus(c.id).catch(() => undefined))));
  }

  async resolve(ref: string, asked?: Asked): Promise<Container> {
    const { client } = await this.connect();
    const c = await this.find(client, ref, asked?.auto ?? false);
    const container = this.toContainer(c, await client.containerStatus(c.id));
    requireRunning(container);
    // A PID from the runtime names a process of the host's PID namespace; one we cannot see is no target.
    if (!existsSync(this.hostRoot.path(`/proc/${container.pid}`))) {
      throw new ScopeError('E_NOT_RUNNING',
        `the CRI runtime reports PID ${container.pid} for ${container.name}, and no such process ` +
        'runs here (is scope-engine in the host\'s PID namespace?)', { details: { container } });
    }
    return container;
  }

  async close(): Promise<void> {
    const c = await this.connection?.catch(() => undefined);
    c?.client.close();
  }

  /**
   * The one current container `ref` names; E_NOT_FOUND or E_AMBIGUOUS (naming the candidates)
   * otherwise. With `auto`, every runtime is being asked: a bare name is then only an ID here, since
   * anyone allowed to make a pod in namespace default could otherwise claim another runtime's name.
   */
  private async find(client: CriClient, ref: string, auto: boolean): Promise<CriContainer> {
    const parts = ref.split('/');
    if (parts.length > 1) {
      const [namespace, pod, name] = parts;
      const labels = { [POD_NAMESPACE]: namespace, [POD_NAME]: pod, ...(name ? { [CONTAINER_NAME]: name } : {}) };
      return this.one(ref, await selected(client, labels), `pod ${namespace}/${pod}`);
    }
    const byId = /^[0-9a-f]{1,64}$/.test(ref)
      ? workloads(await client.listContainers()).filter((c) => c.id.startsWith(ref)) : [];
    const exact = byId.find((c) => c.id === ref);
    if (exact) return exact;
    const byPod = auto ? [] : await selected(client, { [POD_NAMESPACE]: 'default', [POD_NAME]: ref });
    if (byId.length && byPod.length) {
      throw new ScopeError('E_AMBIGUOUS',
        `"${ref}" is both a prefix of container ID ${shortId(byId[0].id)} and pod default/${ref}; ` +
        `give more of the ID or default/${ref}/CONTAINER`,
        { details: { candidates: [...byId, ...byPod].map((c) => c.id) } });
    }
    if (byId.length > 1) {
      throw new ScopeError('E_AMBIGUOUS',
        `"${ref}" is a prefix of ${byId.length} container IDs (${byId.map((c) => shortId(c.id)).join(', ')}); ` +
        'give more of it', { details: { candidates: byId.map((c) => c.id) } });
    }
    return this.one(ref, byId.length ? byId : byPod, `pod default/${ref}`);
  }

  private one(ref: string, found: CriContainer[], pod: string): CriContainer {
    if (!found.length) {
      throw new ScopeError('E_NOT_FOUND', `no container "${ref}" in the CRI runtime: give NAMESPACE/POD/CONTAINER, ` +
        'NAMESPACE/POD, POD (in namespace default, with --runtime cri) or a container ID');
    }
    if (found.length > 1) {
      const names = found.map((c) => `${labelsName(c)} (${shortId(c.id)})`).sort();
      throw new ScopeError('E_AMBIGUOUS', `${pod} has ${found.length} containers, say which: ${names.join(', ')}`,
        { details: { candidates: found.map((c) => c.id) } });
    }
    return found[0];
  }

  private toContainer(c: CriContainer, st: CriStatus | undefined): Container {
    const state = STATES[st?.status?.state ?? c.state] ?? 'unknown';
    const [namespace, name, uid] = [c.labels?.[POD_NAMESPACE], c.labels?.[POD_NAME], c.labels?.[POD_UID]];
    return {
      runtime: this.name, id: c.id, name: labelsName(c), state, pid: st ? pidOf(st) : 0,
      labels: c.labels ?? {}, image: st?.status?.image?.image || c.image?.image || c.imageRef || '',
      ...(namespace && name ? { pod: { namespace, name, uid: uid ?? '' } } : {}),
    };
  }

  /** The endpoint named, else the first usual socket that answers CRI; decided once per engine. */
  private connect(): Promise<Connected> {
    this.connection ??= this.named ? this.dial(this.named) : this.search();
    return this.connection;
  }

  private async dial(choice: Choice): Promise<Connected> {
    const client = new CriClient(choice.socketPath, this.timeoutMs);
    try {
      const v = await client.version();
      return { client, choice, version: `${v.runtimeName} ${v.runtimeVersion} (CRI ${v.runtimeApiVersion})` };
    } catch (err) {
      client.close();
      throw err;
    }
  }

  private async search(): Promise<Connected> {
    if (this.problem) throw new ScopeError('E_RUNTIME_UNAVAILABLE', this.problem);
    const tried: string[] = [];
    for (const s of usualSockets(this.hostRoot)) {
      if (!existsSync(s.socketPath)) continue;
      // Root's, in directories only root may change: else a user who made /run/k0s where k0s is not
      // installed could answer root's engine with PIDs of their choosing.
      const why = notOwned(s.socketPath, 0, this.hostRoot.dir);
      if (why) {
        tried.push(`${s.socketPath}: ${why}`);
        continue;
      }
      try {
        return await this.dial({ socketPath: s.socketPath,
          why: `${s.who}'s usual socket, the first that answered CRI` });
      } catch (err) {
        tried.push(`${s.socketPath}: ${(err as Error).message}`);
      }
    }
    throw new ScopeError('E_RUNTIME_UNAVAILABLE', tried.length ? `no CRI runtime answers: ${tried.join('; ')}`
      : `no CRI socket at the usual places (${usualSockets(this.hostRoot).map((s) => s.socketPath).join(', ')}); ` +
        'set CONTAINER_RUNTIME_ENDPOINT=unix:///path');
  }
}

/** Containers that are workloads: a runtime that lists a pod's sandbox among them (cri-dockerd) has it left out. */
export function workloads(found: CriContainer[]): CriContainer[] {
  return found.filter((c) => c.annotations?.['io.kubernetes.cri.container-type'] !== 'sandbox' &&
    c.labels?.['io.kubernetes.docker.type'] !== 'podsandbox');
}

/**
 * The containers a label selector names, checked on our side too (a runtime that ignored the
 * selector must not hand back another pod's), as the pod has them now.
 */
async function selected(client: CriClient, labels: Record<string, string>): Promise<CriContainer[]> {
  const found = workloads(await client.listContainers(labels))
    .filter((c) => Object.entries(labels).every(([k, v]) => c.labels?.[k] === v));
  return running(current(found));
}

/**
 * Of each container kubelet restarted (a new attempt, or the whole pod in a new sandbox), the running
 * instance, else the newest: the one the pod has now. Old instances stay listed until kubelet removes
 * them. Two running instances of one name (a pod deleted by force and made again) are both kept: which
 * one is meant is the user's to say.
 */
export function current(found: CriContainer[]): CriContainer[] {
  const byName = new Map<string, CriContainer[]>();
  for (const c of found) byName.set(labelsName(c), [...(byName.get(labelsName(c)) ?? []), c]);
  return [...byName.values()].flatMap((all) => {
    const up = all.filter((c) => c.state === 'CONTAINER_RUNNING');
    return up.length ? up : [all.reduce((a, b) => (b.createdAt > a.createdAt ? b : a))];
  });
}

/** The running ones when some run: a pod's exited init containers are not what NAMESPACE/POD means. */
function running(found: CriContainer[]): CriContainer[] {
  const up = found.filter((c) => c.state === 'CONTAINER_RUNNING');
  return up.length ? up : found;
}

function nameOf(c: CriContainer): string {
  return c.labels?.[CONTAINER_NAME] ?? c.metadata?.name ?? c.id;
}

/** NAMESPACE/POD/CONTAINER from kubelet's labels, or the runtime's own name for a container kubelet did not make. */
function labelsName(c: CriContainer): string {
  const namespace = c.labels?.[POD_NAMESPACE];
  const pod = c.labels?.[POD_NAME];
  return namespace && pod ? `${namespace}/${pod}/${nameOf(c)}` : nameOf(c);
}

/**
 * The host PID from a verbose status: containerd (1.6+, 2.x) and CRI-O put it in the JSON string
 * info["info"]; older runtimes put it at info["pid"]. Anything else, or a process not started, is 0.
 */
export function pidOf(st: CriStatus): number {
  const pid = (value: unknown) => (Number.isInteger(value) && (value as number) > 0 ? (value as number) : 0);
  try {
    const info = JSON.parse(st.info?.info ?? '{}') as { pid?: unknown };
    if (pid(info.pid)) return pid(info.pid);
  } catch {
    // not JSON: try the older place
  }
  return /^[1-9]\d{0,9}$/.test(st.info?.pid ?? '') ? pid(Number(st.info.pid)) : 0;
}
