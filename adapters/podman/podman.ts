/**
 * The podman adapter: podman's API socket (rootful /run/podman/podman.sock, rootless
 * $XDG_RUNTIME_DIR/podman/podman.sock, CONTAINER_HOST), its Docker-compatible endpoints through
 * dockerode plus the libpod endpoint for the user namespace's ID maps; or, when no socket is
 * listening, the podman command itself. `scope-engine runtimes` says which path is in use.
 */
import { request } from 'node:http';
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { Env } from '../../core/env';
import { requireRunning, type Container, type ContainerRuntime, type ProbeResult } from '../../core/runtime';
import { DockerApiClient, toContainer, type InspectAnswer } from '../docker/api';
import { chooseEndpoint } from '../docker/endpoint';
import { daemonTimeoutMs, PluginOptions } from '../options';
import { PodmanCli } from './cli';

export const ROOTFUL_PODMAN_SOCKET = '/run/podman/podman.sock';
/** libpod routes exist only versioned; the server accepts any version it does not know. */
const LIBPOD = '/v4.0.0/libpod';

@injectable()
export class PodmanRuntime implements ContainerRuntime {
  readonly name = 'podman';
  private readonly api: DockerApiClient;
  private readonly cli = new PodmanCli();
  private useApi?: Promise<boolean>;

  constructor(@inject(Env) env: Env, @inject(PluginOptions) options: PluginOptions) {
    const endpoint = chooseEndpoint(options.host, env, 'CONTAINER_HOST', () => defaultAddress(env));
    this.api = new DockerApiClient(endpoint, 'podman', daemonTimeoutMs(options, env));
  }

  async probe(): Promise<ProbeResult> {
    const viaApi = await this.api.probe(() => this.pingVersion());
    // What the probe found decides the path for the calls that follow, so that a socket that does
    // not answer is waited for once, not once more by each call.
    this.useApi = Promise.resolve(viaApi.available);
    if (viaApi.available) return { ...viaApi, endpoint: `${viaApi.endpoint} (API)` };
    // An address given and unusable is the user's choice gone wrong: podman's command would act on
    // another podman than the one asked for, so there is no fallback to it.
    if (this.api.endpoint.problem) return viaApi;
    try {
      return { available: true, version: await this.cli.version(), endpoint: `podman CLI (no API: ${viaApi.reason})` };
    } catch (err) {
      return { available: false, reason: `${viaApi.reason}; ${(err as Error).message}` };
    }
  }

  async list(): Promise<Container[]> {
    this.api.refuseBadEndpoint();
    if (!(await this.apiAnswers())) return this.cli.list();
    // libpod's list carries each container's PID: one request instead of an inspect per container.
    const entries = await this.libpod<LibpodListEntry[]>('/containers/json', { all: true });
    return entries.map((e) => toContainer({
      Id: e.Id, Name: e.Names?.[0] ?? e.Id, ImageName: e.Image, Config: { Labels: e.Labels },
      State: { Status: e.State, Running: e.State === 'running', Paused: e.State === 'paused', Restarting: false, Pid: e.Pid },
    }));
  }

  async resolve(ref: string): Promise<Container> {
    this.api.refuseBadEndpoint();
    if (!(await this.apiAnswers())) return requireRunning(await this.cli.inspect(ref));
    const found = await this.api.inspect(ref.replace(/^\//, ''));
    // The compatible answer resolved the name; libpod's tells the ID maps as well.
    return requireRunning((await this.libpodInspect(found.id)) ?? found);
  }

  private async libpodInspect(id: string): Promise<Container | undefined> {
    return this.libpod<InspectAnswer>(`/containers/${id}/json`).then(toContainer, () => undefined);
  }

  /** podman answers _ping at once and names its API version in a header (/version is slow). */
  private pingVersion(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const { socketPath, host, port } = this.api.endpoint;
      const req = request({ socketPath, host, port, path: '/_ping', timeout: this.api.timeoutMs }, (res) => {
        res.resume();
        if (res.statusCode !== 200) reject(new Error(`_ping answered ${res.statusCode}`));
        else resolve(String(res.headers['libpod-api-version'] ?? '') || undefined);
      });
      req.on('timeout', () => req.destroy(new Error('_ping timed out')));
      req.on('error', reject);
      req.end();
    });
  }

  /** A GET on a libpod route, through dockerode's transport. */
  private libpod<T>(path: string, query: Record<string, unknown> = {}): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.api.api.modem.dial({ path: `${LIBPOD}${path}?`, method: 'GET', options: query, statusCodes: { 200: true, 404: 'no such container' } },
        (err: unknown, data: unknown) => (err ? reject(this.api.explain(err)) : resolve(data as T)));
    });
  }

  /** Decided once: a listening socket wins, as podman-remote would use it. */
  private apiAnswers(): Promise<boolean> {
    this.useApi ??= this.api.probe(() => this.pingVersion()).then((p) => p.available);
    return this.useApi;
  }
}

/** An entry of libpod's container list. */
interface LibpodListEntry {
  Id: string;
  Names?: string[];
  State: string;
  Pid: number;
  Labels?: Record<string, string> | null;
  Image: string;
}

/** Without CONTAINER_HOST: the rootful socket for root and the user's own socket for anyone else. */
function defaultAddress(env: Env): string {
  if (process.getuid?.() === 0) return `unix://${ROOTFUL_PODMAN_SOCKET}`;
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${process.getuid?.()}`;
  return `unix://${join(runtimeDir, 'podman', 'podman.sock')}`;
}
