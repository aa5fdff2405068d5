/**
 * The engine: loads the adapters plugins.json asks for and answers "which container, which PID"
 * across them. Everything it uses comes through tsyringe, so a test swaps any part in a child container.
 */
import 'reflect-metadata';
import { inject, injectable, type DependencyContainer } from 'tsyringe';
import { DIContainer } from './env';
import { ScopeError, toScopeError } from './errors';
import { checkRef, GuardedRuntime } from './guarded-runtime';
import { readPluginFiles, configError, type PluginEntry, type PluginFile } from './plugins/config';
import { PluginFiles } from './plugins/files';
import { grpcPluginAdapter, loadModuleAdapter } from './plugins/module-loader';
import { keyOf, Registry, type InitContext } from './registry';
import type { Container, ContainerRuntime, ProbeResult } from './runtime';

/** An adapter as loaded: where it came from and the guarded instance the engine calls. */
export interface LoadedRuntime {
  name: string;
  kind: PluginEntry['kind'];
  /** "built-in docker" or the module path. */
  source: string;
  /** The plugins file that asked for it. */
  file: PluginFile;
  adapter: ContainerRuntime;
}

export interface RuntimeStatus extends ProbeResult {
  name: string;
  kind: PluginEntry['kind'];
  source: string;
  file: string;
}

/** `--runtime` selectors besides an adapter's name. */
export const AUTO = 'auto';
export const ALL = 'all';

@injectable()
export class Engine {
  private loaded: LoadedRuntime[] = [];
  private shared = new Map<string, Promise<unknown>>();

  constructor(
    @inject(Registry) private readonly registry: Registry,
    @inject(PluginFiles) private readonly files: PluginFile[],
    @inject(DIContainer) private readonly di: DependencyContainer,
  ) {}

  /** Reads the plugins files and builds every adapter they list. Refuses the whole set on any fault. */
  async load(): Promise<this> {
    const entries = readPluginFiles(this.files);
    const loaded: LoadedRuntime[] = [];
    for (const entry of entries) {
      const adapter = entry.kind === 'builtin' ? await this.initBuiltin(entry)
        : entry.kind === 'module' ? await loadModuleAdapter(entry) : grpcPluginAdapter(entry);
      loaded.push({
        name: entry.name,
        kind: entry.kind,
        source: entry.kind === 'builtin' ? `built-in ${entry.builtin}` : entry.kind === 'module' ? entry.module : `plugin ${entry.command}`,
        file: entry.file,
        adapter: new GuardedRuntime(entry.name, adapter),
      });
    }
    this.loaded = loaded;
    return this;
  }

  runtimes(): LoadedRuntime[] {
    return [...this.loaded];
  }

  /** The adapter called `name`; E_UNKNOWN_RUNTIME lists the ones there are. */
  runtime(name: string): ContainerRuntime {
    const found = this.loaded.find((r) => r.name === name);
    if (!found) {
      throw new ScopeError('E_UNKNOWN_RUNTIME',
        `no runtime adapter named "${name}"; loaded: ${this.loaded.map((r) => r.name).join(', ') || 'none'} ` +
        `(see scope-engine runtimes)`, { details: { runtimes: this.loaded.map((r) => r.name) } });
    }
    return found.adapter;
  }

  /** Probes every adapter at once. */
  async status(): Promise<RuntimeStatus[]> {
    return Promise.all(this.loaded.map(async (r) => ({
      name: r.name, kind: r.kind, source: r.source, file: r.file.path, ...(await r.adapter.probe()),
    })));
  }

  /**
   * Resolves `ref` in one runtime, or with "auto" in every available one: exactly one must know it.
   */
  async resolve(selector: string, ref: string): Promise<Container> {
    if (selector !== AUTO) return this.runtime(selector).resolve(ref);
    checkRef(ref);
    const available = await this.available();
    const settled = await Promise.allSettled(available.map((r) => r.adapter.resolve(ref)));
    const hits: { runtime: string; container?: Container; error?: ScopeError }[] = [];
    const failures: string[] = [];
    settled.forEach((s, i) => {
      const runtime = available[i].name;
      if (s.status === 'fulfilled') hits.push({ runtime, container: s.value });
      else {
        const err = toScopeError(s.reason);
        if (err.code === 'E_NOT_RUNNING' || err.code === 'E_AMBIGUOUS') hits.push({ runtime, error: err });
        else if (err.code !== 'E_NOT_FOUND') failures.push(err.message);
      }
    });
    if (hits.length > 1) {
      throw new ScopeError('E_AMBIGUOUS',
        `"${ref}" names a container in ${hits.length} runtimes (${hits.map((h) => h.runtime).join(', ')}); ` +
        `say which with --runtime`, { details: { runtimes: hits.map((h) => h.runtime) } });
    }
    if (hits.length === 1) {
      const [hit] = hits;
      if (hit.error) throw hit.error;
      return hit.container!;
    }
    const asked = available.map((r) => r.name).join(', ');
    throw new ScopeError('E_NOT_FOUND',
      `no container "${ref}" in any available runtime (${asked})` + (failures.length ? `; errors: ${failures.join('; ')}` : ''),
      { details: { runtimes: available.map((r) => r.name), errors: failures } });
  }

  /** Containers of one runtime, or with "all" of every available one (the others are reported, not fatal). */
  async list(selector: string): Promise<{ containers: Container[]; unavailable: { runtime: string; reason: string }[] }> {
    if (selector !== ALL && selector !== AUTO) return { containers: await this.runtime(selector).list(), unavailable: [] };
    const statuses = await this.status();
    const unavailable = statuses.filter((s) => !s.available).map((s) => ({ runtime: s.name, reason: s.reason ?? 'unavailable' }));
    const lists = await Promise.allSettled(this.loaded.filter((r) => statuses.find((s) => s.name === r.name)?.available)
      .map(async (r) => ({ runtime: r.name, containers: await r.adapter.list() })));
    const containers: Container[] = [];
    for (const l of lists) {
      if (l.status === 'fulfilled') containers.push(...l.value.containers);
      else unavailable.push({ runtime: '?', reason: toScopeError(l.reason).message });
    }
    return { containers, unavailable };
  }

  /** Closes every adapter, then the parts they shared (a gRPC channel would keep the process alive). */
  async close(): Promise<void> {
    await Promise.allSettled(this.loaded.map((r) => r.adapter.close?.()));
    const parts = await Promise.allSettled([...this.shared.values()]);
    await Promise.allSettled(parts.map((p) => p.status === 'fulfilled' && (p.value as { close?: () => unknown })?.close?.()));
  }

  private async available(): Promise<LoadedRuntime[]> {
    const statuses = await this.status();
    const available = this.loaded.filter((r, i) => statuses[i].available);
    if (!available.length) {
      throw new ScopeError('E_RUNTIME_UNAVAILABLE', 'no runtime is available here: ' +
        statuses.map((s) => `${s.name}: ${s.reason ?? 'unavailable'}`).join('; '));
    }
    return available;
  }

  private async initBuiltin(entry: PluginEntry & { kind: 'builtin' }): Promise<ContainerRuntime> {
    const reg = this.registry.get(`runtime.${entry.builtin}`);
    if (!reg) {
      throw configError(entry.file, entry.index, entry.name,
        `no built-in runtime "${entry.builtin}"; built-ins are: ${this.registry.ids('runtime').join(', ')}`);
    }
    const adapter = await this.initPart(reg.type + '.' + reg.id, entry.name, entry.options, [keyOf(reg)]);
    return adapter as ContainerRuntime;
  }

  /** Initialises a registration and, first, what it requires; shared parts (clients) once per engine. */
  private async initPart(key: string, name: string, options: Record<string, unknown>, chain: string[]): Promise<unknown> {
    const reg = this.registry.get(key);
    if (!reg) throw new ScopeError('E_INTERNAL', `${chain.join(' -> ')} requires ${key}, which is not registered`);
    const child = this.di.createChildContainer();
    const ctx: InitContext = {
      name,
      options,
      container: child,
      get: <T>(dep: string): Promise<T> => {
        if (!(reg.requires ?? []).includes(dep)) {
          throw new ScopeError('E_INTERNAL', `${key} asked for ${dep} without listing it in "requires"`);
        }
        if (chain.includes(dep)) throw new ScopeError('E_INTERNAL', `plugin dependency cycle: ${[...chain, dep].join(' -> ')}`);
        let p = this.shared.get(dep);
        if (!p) {
          p = this.initPart(dep, dep, {}, [...chain, dep]);
          this.shared.set(dep, p);
        }
        return p as Promise<T>;
      },
    };
    for (const dep of reg.requires ?? []) await ctx.get(dep);
    try {
      return await reg.init(ctx);
    } catch (err) {
      throw toScopeError(err, `initialising ${key}`);
    }
  }
}
