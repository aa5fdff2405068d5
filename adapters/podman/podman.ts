/**
 * The podman adapter: podman's API socket (rootful /run/podman/podman.sock, rootless
 * $XDG_RUNTIME_DIR/podman/podman.sock, CONTAINER_HOST), or, when no socket is listening, the
 * podman command itself; `scope-engine runtimes` says which path is in use. Root, given no address,
 * also sees other users' rootless containers through their own services (see users.ts).
 */
import { join } from 'node:path';
import { inject, injectable } from 'tsyringe';
import { ScopeError } from '../../base/errors';
import { requireRunning, type Container, type ContainerRuntime, type ProbeResult } from '../../core/runtime';
import { Caller, Env, HostRoot, Options, Spawn } from '../../core/tokens';
import { chooseEndpoint, inHostRoot } from '../docker/endpoint';
import { daemonTimeoutMs } from '../options';
import { PodmanCli } from './cli';
import { PodmanService } from './service';
import { theirs, userServices, type UserService } from './users';

export const ROOTFUL_PODMAN_SOCKET = '/run/podman/podman.sock';

@injectable()
export class PodmanRuntime implements ContainerRuntime {
  readonly name = 'podman';
  private readonly own: PodmanService;
  private readonly cli: PodmanCli;
  private readonly users: () => UserService[];
  private useApi?: Promise<boolean>;
  private readonly hostRoot: HostRoot;

  constructor(@inject(Options) options: Options, @inject(Env) env: Env, @inject(Caller) caller: Caller,
    @inject(Spawn) spawn: Spawn, @inject(HostRoot) hostRoot: HostRoot) {
    const endpoint = chooseEndpoint(options.host, env, 'CONTAINER_HOST', () => defaultAddress(env, caller.uid));
    const timeoutMs = daemonTimeoutMs(options, env);
    this.hostRoot = hostRoot;
    this.own = new PodmanService(inHostRoot(endpoint, hostRoot), timeoutMs);
    this.cli = new PodmanCli(env, spawn);
    // An address given names one podman; without one, root means every podman on the machine.
    const everyone = caller.uid === 0 && options.host === undefined && !env.CONTAINER_HOST;
    // Scanned once per adapter, as the API path is decided once: a probe and the resolve after it would
    // otherwise each read /run/user and make a client per user.
    let scanned: UserService[] | undefined;
    this.users = everyone ? () => (scanned ??= userServices(hostRoot, timeoutMs)) : () => [];
  }

  async probe(): Promise<ProbeResult> {
    const viaApi = await this.own.probe();
    // What the probe found decides the path for the calls that follow, so that a socket that does
    // not answer is waited for once, not once more by each call.
    this.useApi = Promise.resolve(viaApi.available || this.hostRoot.contained);
    const users = this.users();
    const others = users.length ? ` and the rootless services of ${users.map((u) => u.user).join(', ')}` : '';
    if (viaApi.available) return { ...viaApi, endpoint: `${viaApi.endpoint} (API)${others}` };
    // An address given and unusable is the user's choice gone wrong: podman's command would act on
    // another podman than the one asked for, so there is no fallback to it.
    if (this.own.api.endpoint.problem) return viaApi;
    // In a container, a podman command would manage the container's own storage, not the host's.
    if (this.hostRoot.contained) return { ...viaApi, reason: `${viaApi.reason} (the podman command is not asked ` +
      'from a container: mount the host\'s / or its podman socket)' };
    try {
      return {
        available: true, version: await this.cli.version(),
        endpoint: `podman CLI (no API: ${viaApi.reason})${others}`,
      };
    } catch (err) {
      return { available: false, reason: `${viaApi.reason}; ${(err as Error).message}` };
    }
  }

  async list(): Promise<Container[]> {
    this.own.api.refuseBadEndpoint();
    const own = (await this.apiAnswers()) ? await this.own.list() : await this.cli.list();
    // A user's service that does not answer (a stale socket) hides only that user's containers.
    const others = await Promise.all(this.users().map((u) => u.service.list()
      .then((cs) => cs.flatMap((c) => { try { return [theirs(c, u)]; } catch { return []; } }), () => [])));
    return [...own, ...others.flat()];
  }

  async resolve(ref: string): Promise<Container> {
    this.own.api.refuseBadEndpoint();
    try {
      const c = requireRunning((await this.apiAnswers()) ? await this.own.inspect(ref) : await this.cli.inspect(ref));
      // libpod names the spec's host path.
      return c.spec ? { ...c, spec: this.hostRoot.path(c.spec) } : c;
    } catch (err) {
      if ((err as ScopeError).code !== 'E_NOT_FOUND') throw err;
      return requireRunning(await this.resolveInUsers(ref, err as ScopeError));
    }
  }

  /** `ref` in other users' services: found in exactly one, or `notFound`. */
  private async resolveInUsers(ref: string, notFound: ScopeError): Promise<Container> {
    const found = (await Promise.all(this.users().map((u) =>
      u.service.inspect(ref).then((c) => ({ c, u }), () => undefined))))
      .filter((f) => f !== undefined);
    if (found.length > 1) {
      throw new ScopeError('E_AMBIGUOUS', `"${ref}" names a container of several users: ` +
        `${found.map((f) => `${f.u.user} (${f.c.id.slice(0, 12)})`).join(', ')}; ` +
        'give its full ID', { details: { candidates: found.map((f) => ({ user: f.u.user, id: f.c.id })) } });
    }
    if (!found.length) throw notFound;
    return theirs(found[0].c, found[0].u);
  }

  /** Decided once: a listening socket wins, as podman-remote would use it. */
  private apiAnswers(): Promise<boolean> {
    this.useApi ??= this.hostRoot.contained ? Promise.resolve(true) : this.own.probe().then((p) => p.available);
    return this.useApi;
  }
}

/** Without CONTAINER_HOST: the rootful socket for root and the user's own socket for anyone else. */
function defaultAddress(env: Env, uid: number): string {
  if (uid === 0) return `unix://${ROOTFUL_PODMAN_SOCKET}`;
  const runtimeDir = env.XDG_RUNTIME_DIR || `/run/user/${uid}`;
  return `unix://${join(runtimeDir, 'podman', 'podman.sock')}`;
}
