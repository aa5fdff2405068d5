/**
 * What docker and podman share: a Docker-compatible API spoken through dockerode, its inspect answer
 * mapped onto Container, and its errors mapped onto scope-engine's codes. podman reuses this client.
 */
import { plainAgent } from '../../base/plain-http';
import type Dockerode from 'dockerode';
import { ScopeError } from '../../base/errors';
import {
  socketProblem, type Container, type ContainerState, type IdMapping, type ProbeResult,
} from '../../core/runtime';
import type { Endpoint } from './endpoint';

/** The part of `GET /containers/{id}/json` we read. */
export interface InspectAnswer {
  Id: string;
  Name: string;
  State: { Status: string; Running: boolean; Paused: boolean; Restarting: boolean; Pid: number };
  Config?: { Image?: string; Labels?: Record<string, string> | null };
  /** podman's libpod answers name the image here. */
  ImageName?: string;
  /** podman's libpod answers: the user namespace's maps as "inside:outside:count". */
  HostConfig?: { IDMappings?: { UidMap?: string[] | null; GidMap?: string[] | null } };
  /** podman's libpod answers: where the container's OCI spec is. */
  OCIConfigPath?: string;
}

export class DockerApiClient {
  private client?: Dockerode;

  constructor(
    readonly endpoint: Endpoint,
    /** "docker" or "podman", for messages. */
    private readonly product: string,
    /** A request that does not answer within this long counts as a dead daemon, not a slow one. */
    readonly timeoutMs: number,
  ) {}

  /** E_RUNTIME_UNAVAILABLE when the address itself is unusable (see Endpoint.problem). */
  refuseBadEndpoint(): void {
    if (this.endpoint.problem) throw new ScopeError('E_RUNTIME_UNAVAILABLE',
      `${this.product}: ${this.endpoint.problem}`);
  }

  /** dockerode, loaded on first use: it pulls in ssh2 and protobufjs, a quarter second of every CLI start. */
  get api(): Dockerode {
    this.refuseBadEndpoint();
    if (!this.client) {
      const DockerodeClass = require('dockerode') as typeof Dockerode;
      const { socketPath, host, port } = this.endpoint;
      // On a socket there is no TLS (a tcp:// host may have it, and dockerode then makes its own agent).
      const agent = socketPath ? plainAgent() : undefined;
      const options = { socketPath, host, port, timeout: this.timeoutMs, agent } as Dockerode.DockerOptions;
      this.client = new DockerodeClass(options);
    }
    return this.client;
  }

  /**
   * Reachable? `versionOf` tells the daemon's version; docker's /version is cheap, podman's takes
   * over a second (it asks conmon and the OCI runtime), so podman passes its own.
   */
  async probe(versionOf: () => Promise<string | undefined> =
    async () => ((await this.api.version()) as { Version?: string }).Version):
    Promise<ProbeResult> {
    if (this.endpoint.problem) return { available: false, endpoint: this.endpoint.url, reason: this.endpoint.problem };
    const problem = this.endpoint.socketPath && (await socketProblem(this.endpoint.socketPath));
    if (problem) return { available: false, endpoint: this.endpoint.url, reason: problem };
    try {
      return { available: true, endpoint: this.endpoint.url, version: await versionOf() };
    } catch (err) {
      return {
        available: false, endpoint: this.endpoint.url,
        reason: `${this.endpoint.url}: ${this.explain(err).message}`,
      };
    }
  }

  /** Inspects `ref` (name, full ID or prefix; the daemon resolves it) and maps the answer, running or not. */
  async inspect(ref: string): Promise<Container> {
    let answer: InspectAnswer;
    try {
      answer = (await this.api.getContainer(ref).inspect()) as unknown as InspectAnswer;
    } catch (err) {
      throw await this.inspectError(ref, err);
    }
    return toContainer(answer);
  }

  /** Every container, running or not, with its PID (which only inspect tells). */
  async list(): Promise<Container[]> {
    let ids: string[];
    try {
      ids = (await this.api.listContainers({ all: true })).map((c) => c.Id);
    } catch (err) {
      throw this.explain(err);
    }
    const found = await Promise.all(ids.map((id) => this.inspect(id).catch((err: ScopeError) => {
      // Removed between the list and the inspect: not an error, just gone.
      if (err.code === 'E_NOT_FOUND') return undefined;
      throw err;
    })));
    return found.filter((c): c is Container => c !== undefined);
  }

  private async inspectError(ref: string, err: unknown): Promise<ScopeError> {
    const status = (err as { statusCode?: number }).statusCode;
    const message = daemonMessage(err);
    // docker 20.10 answers an ambiguous prefix with 500, later versions with 400, podman with 404;
    // the words stay, so they decide, before the status does.
    if (isAmbiguityMessage(message)) return ambiguous(this.product, ref, await this.idsWithPrefix(ref), err);
    if (status === 404) return notFound(this.product, ref, err);
    return this.explain(err);
  }

  private async idsWithPrefix(prefix: string): Promise<string[]> {
    try {
      return (await this.api.listContainers({ all: true })).map((c) => c.Id).filter((id) => id.startsWith(prefix));
    } catch {
      return [];
    }
  }

  /** A transport or daemon failure as a ScopeError: unreachable, refused, or something the daemon said. */
  explain(err: unknown): ScopeError {
    if (err instanceof ScopeError) return err;
    const errno = (err as NodeJS.ErrnoException).code;
    if (errno === 'EACCES' || errno === 'EPERM') {
      return new ScopeError('E_PERMISSION',
        `${this.endpoint.url}: permission denied; run as root or join the ${this.product} group`, { cause: err });
    }
    if (errno && ['ENOENT', 'ECONNREFUSED', 'ECONNRESET', 'EPIPE', 'ETIMEDOUT', 'EHOSTUNREACH'].includes(errno)) {
      return new ScopeError('E_RUNTIME_UNAVAILABLE',
        `${this.product} at ${this.endpoint.url} is not answering (${errno}); is the daemon running?`, { cause: err });
    }
    if (/timeout/i.test(String((err as Error).message))) {
      return new ScopeError('E_RUNTIME_UNAVAILABLE',
        `${this.product} at ${this.endpoint.url} did not answer within ${this.timeoutMs} ms`, { cause: err });
    }
    return new ScopeError('E_RUNTIME_ERROR', `${this.product} said: ${daemonMessage(err)}`, { cause: err });
  }
}

/** How docker ("multiple IDs found") and podman ("more than one result") say a prefix is ambiguous. */
export function isAmbiguityMessage(message: string): boolean {
  return /multiple IDs found|more than one result/i.test(message);
}

export function notFound(product: string, ref: string, cause?: unknown): ScopeError {
  return new ScopeError('E_NOT_FOUND', `no ${product} container named or with ID prefix "${ref}" ` +
    `(see scope-engine ps --runtime ${product})`, { cause });
}

export function ambiguous(product: string, ref: string, candidates: string[], cause?: unknown): ScopeError {
  return new ScopeError('E_AMBIGUOUS', `"${ref}" is a prefix of several ${product} container IDs` +
    (candidates.length ? ` (${candidates.map((c) => c.slice(0, 12)).join(', ')})` : '') +
    '; give more of the ID or the name',
  { cause, details: { candidates } });
}

export function toContainer(a: InspectAnswer): Container {
  const c: Container = {
    runtime: '',
    id: a.Id,
    name: a.Name.replace(/^\//, ''),
    state: mapState(a.State),
    pid: a.State.Pid ?? 0,
    labels: a.Config?.Labels ?? {},
    image: a.ImageName || a.Config?.Image || '',
  };
  const maps = a.HostConfig?.IDMappings;
  if (maps?.UidMap?.length || maps?.GidMap?.length) {
    c.idMappings = { uid: parseIdMappings(maps.UidMap), gid: parseIdMappings(maps.GidMap) };
  }
  if (a.OCIConfigPath) c.spec = a.OCIConfigPath;
  return c;
}

function parseIdMappings(lines: string[] | null | undefined): IdMapping[] {
  return (lines ?? []).map((l) => {
    const [inside, outside, count] = l.split(':').map(Number);
    return { inside, outside, count };
  });
}

/** The Docker API's State.Status words onto ours. "Running" stays true while paused, so Status decides. */
function mapState(s: InspectAnswer['State']): ContainerState {
  switch (s.Status) {
    case 'running': return s.Paused ? 'paused' : 'running';
    case 'paused': return 'paused';
    case 'restarting': return 'restarting';
    case 'created': case 'configured': case 'initialized': return 'created';
    case 'exited': case 'dead': case 'removing': case 'stopped': return 'stopped';
    default: return 'unknown';
  }
}

function daemonMessage(err: unknown): string {
  const json = (err as { json?: { message?: string } }).json;
  if (json?.message) return json.message;
  return String((err as Error).message ?? err).replace(/^\(HTTP code \d+\) [a-z ]+ - /, '').trim();
}
