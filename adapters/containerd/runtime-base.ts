/**
 * What the ctr and nerdctl adapters share: a namespace, the client, and turning a containerd
 * container and its task into a Container.
 */
import { ScopeError } from '../../base/errors';
import { requireRunning, type Container, type ContainerState, type ProbeResult } from '../../core/runtime';
import type { Env, Options } from '../../core/tokens';
import type { ContainerdClient, ContainerdContainer, ContainerdProcess, TaskStatus } from './client';

export abstract class ContainerdRuntime {
  abstract readonly name: string;

  readonly namespace: string;

  /** The namespace: the entry's "namespace" option (or --namespace), else CONTAINERD_NAMESPACE, else "default". */
  constructor(protected readonly client: ContainerdClient, options: Options, env: Env) {
    this.namespace = (typeof options.namespace === 'string' && options.namespace) || env.CONTAINERD_NAMESPACE ||
      'default';
  }

  async probe(): Promise<ProbeResult> {
    const p = await this.client.probe();
    return p.available ? { ...p, endpoint: `${p.endpoint} namespace ${this.namespace}` } : p;
  }

  /** A container with its task (or none), checked to be running. */
  protected async withTask(c: ContainerdContainer): Promise<Container> {
    let task: ContainerdProcess | undefined;
    try {
      task = await this.client.getTask(this.namespace, c.id);
    } catch (err) {
      if ((err as ScopeError).code !== 'E_NOT_FOUND') throw err;
    }
    return requireRunning(this.toContainer(c, task));
  }

  /** Every container of the namespace the filters select, each with its task's PID. */
  protected async listWith(filters: string[]): Promise<Container[]> {
    const [containers, tasks] = await Promise.all([
      this.client.listContainers(this.namespace, filters), this.client.listTasks(this.namespace)]);
    // A task's init process carries the container's ID in `id`; `container_id` is set for execs only.
    const byId = new Map(tasks.map((t) => [t.containerId || t.id, t]));
    return containers.map((c) => this.toContainer(c, byId.get(c.id)));
  }

  protected toContainer(c: ContainerdContainer, task: ContainerdProcess | undefined): Container {
    return {
      runtime: this.name,
      id: c.id,
      name: this.displayName(c),
      state: task ? mapStatus(task.status) : 'stopped',
      pid: task && task.status !== 'STOPPED' ? task.pid : 0,
      labels: c.labels ?? {},
      image: c.image ?? '',
    };
  }

  protected abstract displayName(c: ContainerdContainer): string;

}

function mapStatus(s: TaskStatus): ContainerState {
  switch (s) {
    case 'RUNNING': return 'running';
    case 'PAUSED': case 'PAUSING': return 'paused';
    case 'CREATED': return 'created';
    case 'STOPPED': return 'stopped';
    default: return 'unknown';
  }
}
