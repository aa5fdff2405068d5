/**
 * One podman API socket: its Docker-compatible endpoints through dockerode, plus libpod's for what
 * only libpod tells (the user namespace's ID maps, the OCI spec's path, every PID in one list).
 */
import { plainRequest } from '../../base/plain-http';
import type { Container, ProbeResult } from '../../core/runtime';
import { DockerApiClient, toContainer, type InspectAnswer } from '../docker/api';
import type { Endpoint } from '../docker/endpoint';

/** libpod routes exist only versioned; the server accepts any version it does not know. */
const LIBPOD = '/v4.0.0/libpod';

export class PodmanService {
  readonly api: DockerApiClient;

  constructor(endpoint: Endpoint, timeoutMs: number) {
    this.api = new DockerApiClient(endpoint, 'podman', timeoutMs);
  }

  probe(): Promise<ProbeResult> {
    return this.api.probe(() => this.pingVersion());
  }

  async list(): Promise<Container[]> {
    // libpod's list carries each container's PID: one request instead of an inspect per container.
    const entries = await this.libpod<LibpodListEntry[]>('/containers/json', { all: true });
    return entries.map((e) => toContainer({
      Id: e.Id, Name: e.Names?.[0] ?? e.Id, ImageName: e.Image, Config: { Labels: e.Labels },
      State: {
        Status: e.State, Running: e.State === 'running', Paused: e.State === 'paused', Restarting: false, Pid: e.Pid,
      },
    }));
  }

  /** The container, running or not. */
  async inspect(ref: string): Promise<Container> {
    const found = await this.api.inspect(ref.replace(/^\//, ''));
    // The compatible answer resolved the name; libpod's tells the ID maps and the spec as well.
    return (await this.libpod<InspectAnswer>(`/containers/${found.id}/json`).then(toContainer, () => undefined)) ??
      found;
  }

  /** podman answers _ping at once and names its API version in a header (/version is slow). */
  private pingVersion(): Promise<string | undefined> {
    return new Promise((resolve, reject) => {
      const { socketPath, host, port } = this.api.endpoint;
      const req = plainRequest({ socketPath, host, port, path: '/_ping', timeout: this.api.timeoutMs }, (res) => {
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
      this.api.api.modem.dial({ path: `${LIBPOD}${path}?`, method: 'GET', options: query,
        statusCodes: { 200: true, 404: 'no such container' } },
        (err: unknown, data: unknown) => (err ? reject(this.api.explain(err)) : resolve(data as T)));
    });
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
