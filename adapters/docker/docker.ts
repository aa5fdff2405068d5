/** The docker adapter: the daemon's own API through dockerode, at DOCKER_HOST or the default socket. */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { requireRunning, type Container, type ContainerRuntime, type ProbeResult } from '../../core/runtime';
import { Caller, Env, HostRoot, Options } from '../../core/tokens';
import { daemonTimeoutMs } from '../options';
import { DockerApiClient } from './api';
import { chooseEndpoint, inHostRoot } from './endpoint';
import { hostPid, specPath } from './rootless';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

@injectable()
export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  private readonly client: DockerApiClient;

  constructor(@inject(Options) options: Options, @inject(Env) env: Env, @inject(Caller) caller: Caller,
    @inject(HostRoot) hostRoot: HostRoot) {
    // An explicit "host" option in plugins.json wins over the environment, as `docker -H` does.
    const endpoint = chooseEndpoint(options.host, env, 'DOCKER_HOST',
      () => `unix://${defaultSocket(env, caller.uid, hostRoot)}`);
    this.client = new DockerApiClient(inHostRoot(endpoint, hostRoot), 'docker', daemonTimeoutMs(options, env));
  }

  probe(): Promise<ProbeResult> {
    return this.client.probe();
  }

  async list(): Promise<Container[]> {
    return (await this.client.list()).map((c) => this.onHost(c));
  }

  async resolve(ref: string): Promise<Container> {
    // The API takes names without docker's leading slash: `/containers//web/json` is a redirect.
    return requireRunning(this.onHost(await this.client.inspect(ref.replace(/^\//, ''))));
  }

  /** The container with a host PID and, where the daemon keeps it, its OCI spec. */
  private onHost(c: Container): Container {
    const socket = this.client.endpoint.socketPath;
    if (!socket) return c;
    const spec = specPath(socket, c.id);
    return { ...c, pid: hostPid(socket, c.pid), ...(spec ? { spec } : {}) };
  }
}

/**
 * The system daemon's socket for root; for a user, that user's rootless daemon's when it runs, as its setup
 * tool points DOCKER_HOST.
 */
function defaultSocket(env: Env, uid: number, hostRoot: HostRoot): string {
  if (uid === 0) return DEFAULT_DOCKER_SOCKET;
  const own = join(env.XDG_RUNTIME_DIR || `/run/user/${uid}`, 'docker.sock');
  return existsSync(hostRoot.path(own)) ? own : DEFAULT_DOCKER_SOCKET;
}
