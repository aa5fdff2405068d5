/**
 * One gRPC client for containerd, shared by the ctr and nerdctl adapters (registered as
 * "client.containerd" and required by both). Every call carries the `containerd-namespace`
 * metadata and a deadline, so that a dead daemon is an error, never a hang.
 */
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { PACKAGE_ROOT } from '../../base/paths';
import { socketProblem, type ProbeResult } from '../../core/runtime';
import { Env, HostRoot } from '../../core/tokens';
import { UnaryClient } from '../../base/grpc';
import { DAEMON_MAX_BYTES, daemonError } from '../grpc';
import { daemonTimeoutMs } from '../options';

export const DEFAULT_CONTAINERD_ADDRESS = '/run/containerd/containerd.sock';
export const PROTO_DIR = join(PACKAGE_ROOT, 'adapters', 'containerd', 'proto');

/** The services' full names, as the protos declare them. */
const SERVICES = {
  containers: 'containerd.services.containers.v1.Containers',
  tasks: 'containerd.services.tasks.v1.Tasks',
  namespaces: 'containerd.services.namespaces.v1.Namespaces',
  version: 'containerd.services.version.v1.Version',
};

export interface ContainerdContainer {
  id: string;
  labels: Record<string, string>;
  image: string;
  runtime?: { name: string };
}

export type TaskStatus = 'UNKNOWN' | 'CREATED' | 'RUNNING' | 'STOPPED' | 'PAUSED' | 'PAUSING';

export interface ContainerdProcess {
  containerId: string;
  id: string;
  pid: number;
  status: TaskStatus;
}


@injectable()
export class ContainerdClient {
  private client?: UnaryClient;

  readonly address: string;
  /** The address's socket, found under the host's root. */
  readonly socketPath: string;
  /** How long one call may take before containerd counts as not answering. */
  readonly deadlineMs: number;

  /**
   * Shared by ctr and nerdctl, so built without an entry's options: the address is CONTAINERD_ADDRESS
   * (default /run/containerd/containerd.sock), the deadline the environment's.
   */
  constructor(@inject(Env) env: Env, @inject(HostRoot) hostRoot: HostRoot) {
    this.address = env.CONTAINERD_ADDRESS || DEFAULT_CONTAINERD_ADDRESS;
    this.socketPath = hostRoot.path(this.address.replace(/^unix:\/\//, ''));
    this.deadlineMs = daemonTimeoutMs({}, env);
  }

  async probe(): Promise<ProbeResult> {
    const endpoint = `unix://${this.socketPath}`;
    const problem = await socketProblem(this.socketPath);
    if (problem) return { available: false, endpoint, reason: problem };
    try {
      const v = await this.call<{ version: string }>('version', 'Version', '', {});
      return { available: true, endpoint, version: v.version };
    } catch (err) {
      return { available: false, endpoint, reason: (err as Error).message };
    }
  }

  async getContainer(namespace: string, id: string): Promise<ContainerdContainer> {
    return (await this.call<{ container: ContainerdContainer }>('containers', 'Get', namespace, { id })).container;
  }

  /** Containers matching any of `filters` (containerd's filter syntax); all of them with none. */
  async listContainers(namespace: string, filters: string[] = []): Promise<ContainerdContainer[]> {
    return (await this.call<{ containers: ContainerdContainer[] }>(
      'containers', 'List', namespace, { filters })).containers;
  }

  /** The task of a container; E_NOT_FOUND when it has none (created, never started, or deleted). */
  async getTask(namespace: string, containerId: string): Promise<ContainerdProcess> {
    return (await this.call<{ process: ContainerdProcess }>('tasks', 'Get', namespace, { containerId })).process;
  }

  async listTasks(namespace: string): Promise<ContainerdProcess[]> {
    return (await this.call<{ tasks: ContainerdProcess[] }>('tasks', 'List', namespace, {})).tasks;
  }

  async listNamespaces(): Promise<string[]> {
    return (await this.call<{ namespaces: { name: string }[] }>('namespaces', 'List', '', {})).namespaces
      .map((n) => n.name);
  }

  /** Called by the engine's DI container when the engine closes (the client is the engine's, not one adapter's). */
  dispose(): void {
    this.client?.close();
    this.client = undefined;
  }

  protected call<T>(service: keyof typeof SERVICES, method: string, namespace: string, req: object): Promise<T> {
    this.client ??= new UnaryClient({ path: this.socketPath }, PROTO_DIR, DAEMON_MAX_BYTES);
    const meta: Record<string, string> = namespace ? { 'containerd-namespace': namespace } : {};
    return this.client.call<T>(SERVICES[service], method, req, meta, this.deadlineMs).catch((err) => {
      throw daemonError(err, 'containerd', `unix://${this.socketPath}`, `${service}.${method}`);
    });
  }
}
