/** The docker adapter: the daemon's own API through dockerode, at DOCKER_HOST or the default socket. */
import { inject, injectable } from 'tsyringe';
import { Env } from '../../core/env';
import { requireRunning, type Container, type ContainerRuntime, type ProbeResult } from '../../core/runtime';
import { PluginOptions } from '../options';
import { DockerApiClient } from './api';
import { daemonTimeoutMs } from '../options';
import { chooseEndpoint } from './endpoint';

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

@injectable()
export class DockerRuntime implements ContainerRuntime {
  readonly name = 'docker';
  private readonly client: DockerApiClient;

  constructor(@inject(Env) env: Env, @inject(PluginOptions) options: PluginOptions) {
    // An explicit "host" option in plugins.json wins over the environment, as `docker -H` does.
    const endpoint = chooseEndpoint(options.host, env, 'DOCKER_HOST', () => `unix://${DEFAULT_DOCKER_SOCKET}`);
    this.client = new DockerApiClient(endpoint, 'docker', daemonTimeoutMs(options, env));
  }

  probe(): Promise<ProbeResult> {
    return this.client.probe();
  }

  list(): Promise<Container[]> {
    return this.client.list();
  }

  async resolve(ref: string): Promise<Container> {
    // The API takes names without docker's leading slash: `/containers//web/json` is a redirect.
    return requireRunning(await this.client.inspect(ref.replace(/^\//, '')));
  }
}
