/**
 * The lxc adapter, one for both kinds: LXD/Incus instances through their REST API, and classic
 * LXC containers through liblxc's tools (for classic containers, or when no LXD/Incus answers).
 * LXC has no IDs: a container's ID is its name. A virtual machine is refused: its PID is QEMU's.
 */
import { statSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';
import { ScopeError } from '../../base/errors';
import {
  requireRunning, type Container, type ContainerRuntime, type ContainerState, type IdMapping, type ProbeResult,
} from '../../core/runtime';
import { Caller, Env, HostRoot, Options, Spawn } from '../../core/tokens';
import { inHostNamespace } from '../../native/host-root';
import { daemonTimeoutMs } from '../options';
import { ClassicLxc, classicNotFound, defaultLxcpath, type ClassicContainer } from './classic';
import { LxdClient, type LxdInstance } from './lxd-client';
import { LxcHost } from './monitor';

/** The label saying which kind of LXC a container belongs to. */
export const KIND_LABEL = 'scope-engine/lxc-kind';

@injectable()
export class LxcRuntime implements ContainerRuntime {
  readonly name = 'lxc';
  /** The LXD or Incus daemon whose socket exists, if any. */
  private readonly lxd?: LxdClient;
  private readonly classic: ClassicLxc;
  /** Why no LXD socket was found: none on the host, or none visible from the engine's container. */
  private readonly noLxd: ScopeError;
  private readonly timeoutMs: number;

  /** Options: "project" (LXD's), "lxcpath" (classic LXC's, also --lxcpath), "timeoutMs". */
  constructor(@inject(Options) options: Options, @inject(Env) env: Env,
    @inject(Caller) caller: Caller, @inject(Spawn) spawn: Spawn,
    @inject(HostRoot) hostRoot: HostRoot, @inject(LxcHost) private readonly host: LxcHost) {
    const project = typeof options.project === 'string' ? options.project : undefined;
    this.timeoutMs = daemonTimeoutMs(options, env);
    this.lxd = LxdClient.find(env, hostRoot, project, this.timeoutMs);
    // In a container that cannot see the host's files, a socket missing here says nothing of the host.
    this.noLxd = hostRoot.visible ? new ScopeError('E_NOT_FOUND', 'no LXD or Incus socket')
      : new ScopeError('E_RUNTIME_UNAVAILABLE', 'no LXD or Incus socket here: scope-engine runs in a container ' +
        'without the host\'s root; mount it (-v /:/hostfs:ro --host-root /hostfs) or the socket (LXD_SOCKET)');
    const lxcpath = (typeof options.lxcpath === 'string' && options.lxcpath) || defaultLxcpath(env, caller.uid);
    this.classic = new ClassicLxc(lxcpath, env, spawn, classicUnreachable(lxcpath, hostRoot));
  }

  async probe(): Promise<ProbeResult> {
    const [server, tools] = await Promise.allSettled([this.lxdServer(), this.classic.version()]);
    const parts: string[] = [];
    const reasons: string[] = [];
    if (server.status === 'fulfilled') parts.push(`unix://${this.lxd!.socketPath} (${server.value.name})`);
    else reasons.push((server.reason as Error).message);
    if (tools.status === 'fulfilled') parts.push(`classic LXC ${tools.value} in ${this.classic.lxcpath}`);
    else reasons.push((tools.reason as Error).message);
    if (!parts.length) return { available: false, reason: reasons.join('; ') };
    return {
      available: true, endpoint: parts.join(' + '),
      version: server.status === 'fulfilled' ? server.value.version : undefined,
    };
  }

  async list(): Promise<Container[]> {
    const [instances, classic] = await Promise.allSettled([
      this.lxd ? this.lxdInstances(this.lxd) : Promise.resolve([]),
      this.classic.list(),
    ]);
    if (instances.status === 'rejected' && classic.status === 'rejected') throw instances.reason;
    return [
      ...(instances.status === 'fulfilled' ? instances.value.map((i) => this.fromLxd(i)) : []),
      ...(classic.status === 'fulfilled' ? classic.value.map((c) => this.fromClassic(c)) : []),
    ];
  }

  async resolve(ref: string): Promise<Container> {
    const [inst, classic] = await Promise.allSettled([
      this.lxd ? this.lxdInstance(this.lxd, ref) : Promise.reject(this.noLxd),
      this.classicInfo(ref),
    ]);
    const found = [inst, classic].filter((r) => r.status === 'fulfilled');
    if (found.length === 2) {
      throw new ScopeError('E_AMBIGUOUS', `"${ref}" is both an LXD instance and a classic LXC container`,
        { details: { candidates: ['lxd', 'classic'] } });
    }
    if (inst.status === 'fulfilled') {
      if (inst.value.type === 'virtual-machine') {
        throw new ScopeError('E_UNSUPPORTED',
          `"${ref}" is a virtual machine: its PID is QEMU's, not a process inside it`);
      }
      return requireRunning(this.fromLxd(inst.value));
    }
    if (classic.status === 'fulfilled') return requireRunning(this.fromClassic(classic.value));
    // Neither has it: say so, unless one of them failed otherwise (that is worth knowing). An LXD
    // that is there but does not answer may well have it: that is no "not found".
    // An LXD whose socket refuses this user (not in its group) runs nothing this user may enter.
    const lxdRefused = (inst as PromiseRejectedResult).reason?.code === 'E_PERMISSION';
    for (const r of lxdRefused ? [classic] : [inst, classic]) {
      const code = (r as PromiseRejectedResult).reason?.code;
      if (code !== 'E_NOT_FOUND' && code !== 'E_RUNTIME_UNAVAILABLE') throw (r as PromiseRejectedResult).reason;
    }
    if ((inst as PromiseRejectedResult).reason?.code === 'E_RUNTIME_UNAVAILABLE') {
      const why = (inst as PromiseRejectedResult).reason as ScopeError;
      throw new ScopeError('E_RUNTIME_UNAVAILABLE',
        `no classic LXC container named "${ref}", and LXD cannot say: ${why.message}`, { cause: why });
    }
    if (this.classic.unreachable) {
      throw new ScopeError('E_RUNTIME_UNAVAILABLE',
        `no LXD instance named "${ref}", and classic LXC cannot say: ${this.classic.unreachable}`);
    }
    throw new ScopeError('E_NOT_FOUND', `no LXD instance or LXC container named "${ref}"`);
  }

  /**
   * The main PID of a container resolve() gave, from the monitor resolve() took it from, with the
   * same checks (monitor-trust.ts), and without LXD's /state: LXD takes the PID from this very
   * monitor. So this check after pinning is as strong as resolving again, for what it guards
   * against: a container that restarted between resolve and pin has a new monitor naming a new
   * init, another PID here, whatever process took the old number. A container whose monitor cannot
   * say (no longer running, or not askable from here) is resolved again, which fails as resolve() does.
   */
  async currentPid(container: Container): Promise<number> {
    const kind = container.labels[KIND_LABEL];
    const at = kind === 'lxd' && this.lxd ? { lxcpath: this.lxd.lxcpath, name: this.lxd.lxcName(container.name) }
      : kind === 'classic' && !this.classic.unreachable ? { lxcpath: this.classic.lxcpath, name: container.name }
        : undefined;
    const said = at && await this.host.monitor(at.lxcpath, at.name, { timeoutMs: this.timeoutMs });
    if (said && said.pid > 0) return said.pid;
    const again = await this.resolve(container.id);
    return again.id === container.id ? again.pid : 0;
  }

  /**
   * An LXD instance, and for a running or frozen container its init's PID: from its monitor, asked
   * meanwhile, else from LXD's /state (the monitor cannot be asked from here, or is not where the
   * daemon's directory says).
   */
  private async lxdInstance(lxd: LxdClient, ref: string): Promise<LxdInstance> {
    // Both at once, and both settled before returning: nothing of this call goes on after it.
    const [inst, said] = await Promise.allSettled([
      lxd.instance(ref), this.host.monitor(lxd.lxcpath, lxd.lxcName(ref), { timeoutMs: this.timeoutMs }),
    ]);
    if (inst.status === 'rejected') throw inst.reason;
    return this.withPid(lxd, inst.value, said);
  }

  /** Every LXD instance, each running container with its init's PID as lxdInstance() gets it. */
  private async lxdInstances(lxd: LxdClient): Promise<LxdInstance[]> {
    const all = await lxd.instances();
    return Promise.all(all.map(async (i) => {
      const [said] = await Promise.allSettled([isContainerUp(i)
        ? this.host.monitor(lxd.lxcpath, lxd.lxcName(i.name), { timeoutMs: this.timeoutMs }) : undefined]);
      return this.withPid(lxd, i, said);
    }));
  }

  /**
   * `i` with its init's PID: the monitor's answer `said`, else LXD's /state. None for a container that
   * is not up, nor for a VM, whose PID would be QEMU's, which nothing here may act on.
   */
  private async withPid(lxd: LxdClient, i: LxdInstance,
    said: PromiseSettledResult<{ pid: number } | undefined>): Promise<LxdInstance> {
    if (!isContainerUp(i)) return i;
    if (said.status === 'rejected') throw said.reason;
    const pid = said.value?.pid ?? 0;
    if (pid > 0) return { ...i, state: { pid, status: i.status } };
    return { ...i, state: await lxd.state(i.name) };
  }

  /** A classic container, from its monitor when it can be asked, else from lxc-info as before. */
  private async classicInfo(ref: string): Promise<ClassicContainer> {
    // The tools say why they cannot be asked; the monitors are no more reachable from there.
    if (this.classic.unreachable) return this.classic.info(ref);
    const lxcpath = this.classic.lxcpath;
    if (!this.host.defined(lxcpath, ref)) throw classicNotFound(ref, lxcpath);
    const said = await this.host.monitor(lxcpath, ref, { state: true, timeoutMs: this.timeoutMs });
    return said ? { name: ref, ...said } : this.classic.info(ref);
  }

  private async lxdServer() {
    if (!this.lxd) throw this.noLxd;
    return this.lxd.server();
  }

  private fromLxd(i: LxdInstance): Container {
    const c: Container = {
      runtime: this.name,
      id: i.name,
      name: i.name,
      state: lxdState(i.state?.status ?? i.status),
      pid: i.state?.pid ?? 0,
      labels: {
        [KIND_LABEL]: 'lxd',
        ...(i.type === 'virtual-machine' ? { [`${KIND_LABEL.split('/')[0]}/lxd-type`]: i.type } : {}),
      },
      image: i.config['image.description'] ?? i.config['volatile.base_image'] ?? '',
    };
    const idmap = parseIdmap(i.config['volatile.idmap.current']);
    if (idmap) c.idMappings = idmap;
    return c;
  }

  private fromClassic(c: ClassicContainer): Container {
    return {
      runtime: this.name, id: c.name, name: c.name, state: classicState(c.state), pid: c.pid,
      labels: { [KIND_LABEL]: 'classic' }, image: '',
    };
  }
}

/**
 * Why the host's classic LXC cannot be asked from here, if it cannot: its tools talk to each
 * container's command socket, an abstract socket of the host's network namespace named after the
 * lxcpath, so the engine needs that namespace and the lxcpath at its own path. Undefined where the
 * host has no such lxcpath (nothing to ask).
 */
function classicUnreachable(lxcpath: string, hostRoot: HostRoot): string | undefined {
  const onHost = statSync(hostRoot.path(lxcpath), { throwIfNoEntry: false });
  if (!onHost?.isDirectory()) return undefined;
  if (!inHostNamespace('net')) {
    return 'classic LXC answers on abstract sockets of the host\'s network namespace, and scope-engine runs ' +
      'in another: run it with --network host (hostNetwork: true)';
  }
  const here = statSync(lxcpath, { throwIfNoEntry: false });
  if (here?.dev !== onHost.dev || here.ino !== onHost.ino) {
    return `classic LXC names its containers' sockets after the lxcpath, and the host's ${lxcpath} is not ` +
      `mounted at that path here: add -v ${lxcpath}:${lxcpath}`;
  }
  return undefined;
}

function lxdState(status: string): ContainerState {
  switch (status) {
    case 'Running': return 'running';
    case 'Frozen': return 'paused';
    case 'Stopped': return 'stopped';
    default: return 'unknown';
  }
}

function classicState(state: string): ContainerState {
  switch (state) {
    case 'RUNNING': return 'running';
    case 'FROZEN': return 'paused';
    case 'STOPPED': return 'stopped';
    case 'STARTING': return 'created';
    default: return 'unknown';
  }
}

/** LXD's volatile.idmap.current: [{"Isuid":true,"Isgid":false,"Hostid":100000,"Nsid":0,"Maprange":...}]. */
function parseIdmap(json: string | undefined): { uid: IdMapping[]; gid: IdMapping[] } | undefined {
  if (!json) return undefined;
  try {
    const entries = JSON.parse(json) as
      { Isuid: boolean; Isgid: boolean; Hostid: number; Nsid: number; Maprange: number }[];
    const to = (e: (typeof entries)[number]) => ({ inside: e.Nsid, outside: e.Hostid, count: e.Maprange });
    return { uid: entries.filter((e) => e.Isuid).map(to), gid: entries.filter((e) => e.Isgid).map(to) };
  } catch {
    return undefined;
  }
}

/** A container (not a VM) that has an init: running, or frozen (paused). */
function isContainerUp(i: LxdInstance): boolean {
  return i.type !== 'virtual-machine' && (i.status === 'Running' || i.status === 'Frozen');
}
