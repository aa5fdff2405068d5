/**
 * The engine: loads the adapters plugins.json asks for and answers "which container, which PID"
 * across them. Everything it uses comes through tsyringe, so a test swaps any part in a child container.
 */
import 'reflect-metadata';
import { inject, injectable } from 'tsyringe';
import { ScopeError, toScopeError } from '../base/errors';
import { Builtins } from './builtins';
import { checkRef, GuardedRuntime } from './guarded-runtime';
import { readConfigFiles, type AdapterEntry, type ConfigFile } from './config/entries';
import { ConfigFiles } from './config/files';
import { loadModuleAdapter, UnloadedRuntime } from './modules/loader';
import { DEFAULT_START_TIMEOUT_MS, pluginAdapter } from './plugin/runtime';
import {
  CALL_DEADLINE_ENV, DEFAULT_CALL_DEADLINE_MS, DEFAULT_IMPORT_TIMEOUT_MS, IMPORT_TIMEOUT_ENV, timeoutFrom,
} from './config/timeouts';
import type { Container, ContainerRuntime, ProbeResult } from './runtime';
import { Caller, Clock, Env, HostRoot } from './tokens';

/** An adapter as loaded: where it came from and the guarded instance the engine calls. */
export interface LoadedRuntime {
  name: string;
  kind: AdapterEntry['kind'];
  /** "built-in docker" or the module path. */
  source: string;
  /** The plugins file that asked for it. */
  file: ConfigFile;
  adapter: GuardedRuntime;
}

/** One runtime's part in a question put to several: unavailable, or its answer, or its error. */
interface Answer<T> {
  runtime: string;
  unavailable?: string;
  value?: T;
  error?: ScopeError;
}

export interface RuntimeStatus extends ProbeResult {
  name: string;
  kind: AdapterEntry['kind'];
  source: string;
  file: string;
}

/** `--runtime` selectors besides an adapter's name. */
export const AUTO = 'auto';
export const ALL = 'all';

@injectable()
export class Engine {
  private loaded: LoadedRuntime[] = [];

  constructor(
    @inject(Builtins) private readonly builtins: Builtins,
    @inject(ConfigFiles) private readonly files: ConfigFile[],
    @inject(Env) private readonly env: Env,
    /** What the flows wait with. */
    @inject(Clock) readonly clock: Clock,
    /** Whom the flows act for: a user can enter only the containers of its own user namespaces. */
    @inject(Caller) readonly caller: Caller,
    /** Where the host's files are: the paths a user gives under it are resolved as the host would. */
    @inject(HostRoot) readonly hostRoot: HostRoot,
  ) {}

  /**
   * Reads the plugins files and builds every adapter they list, all at once, so that a slow module
   * costs its own timeout and no more. Refuses the whole set on any fault in a file, closing what
   * was built; a module that does not load in time is only an unavailable runtime (its error says
   * which file and entry), since the file itself may be right and the others are not at fault.
   */
  async load(): Promise<this> {
    // The package's own file lists every built-in; an engine builds those its composition root imported.
    const entries = readConfigFiles(this.files)
      .filter((e) => e.kind !== 'builtin' || e.file.origin !== 'package' || this.builtins.has(e.builtin));
    const built = await Promise.allSettled(entries.map((entry) => this.build(entry)));
    const loaded = built.flatMap((b) => (b.status === 'fulfilled' ? [b.value] : []));
    const failed = built.find((b): b is PromiseRejectedResult => b.status === 'rejected');
    if (failed) {
      await Promise.allSettled(loaded.map((r) => r.adapter.close?.()));
      await this.builtins.dispose();
      throw failed.reason;
    }
    this.loaded = loaded;
    return this;
  }

  private async build(entry: AdapterEntry): Promise<LoadedRuntime> {
    const deadlineMs = timeoutFrom(entry.callDeadlineMs, this.env, CALL_DEADLINE_ENV, DEFAULT_CALL_DEADLINE_MS);
    let adapter: ContainerRuntime;
    let guard: ConstructorParameters<typeof GuardedRuntime>[2] = { deadlineMs };
    if (entry.kind === 'builtin') {
      adapter = this.builtins.runtime(entry);
    } else if (entry.kind === 'module') {
      guard = { deadlineMs, contain: true, timeoutCode: 'E_PLUGIN_TIMEOUT' };
      const importMs = timeoutFrom(entry.importTimeoutMs, this.env, IMPORT_TIMEOUT_ENV, DEFAULT_IMPORT_TIMEOUT_MS);
      adapter = await loadModuleAdapter(entry, importMs).catch((err: ScopeError) => {
        if (err.code !== 'E_PLUGIN_TIMEOUT') throw err;
        return new UnloadedRuntime(entry.name, err);
      });
    } else {
      adapter = pluginAdapter(entry, deadlineMs, this.env);
      // The plugin bounds its own start and calls, killing it and saying what its stderr said; this
      // backstop only counts when that fails, so it leaves room for a start on the first call.
      guard = {
        deadlineMs: deadlineMs + (entry.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS) + 1000,
        timeoutCode: 'E_PLUGIN_TIMEOUT',
      };
    }
    return {
      name: entry.name,
      kind: entry.kind,
      source: entry.kind === 'builtin' ? `built-in ${entry.builtin}`
        : entry.kind === 'module' ? entry.module : `plugin ${entry.command}`,
      file: entry.file,
      adapter: new GuardedRuntime(entry.name, adapter, guard),
    };
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
   * A runtime that cannot answer is reported in the error when nobody has the container, never
   * taken for "not found" silently, and never keeps the answer of the others waiting past its deadline.
   */
  async resolve(selector: string, ref: string): Promise<Container> {
    if (selector !== AUTO) return this.runtime(selector).resolve(ref);
    // Only the runtimes whose references look like this one are asked (NAMESPACE/POD is cri's alone).
    const among = this.loaded.filter((r) => r.adapter.accepts(ref));
    if (!among.length) checkRef(ref);
    const answers = await this.askAvailable((r) => r.adapter.resolve(ref, { auto: true }), `resolving "${ref}"`, among);
    const asked = answers.filter((a) => a.unavailable === undefined);
    if (!asked.length) {
      throw new ScopeError('E_RUNTIME_UNAVAILABLE', 'no runtime is available here: ' +
        answers.map((a) => `${a.runtime}: ${a.unavailable}`).join('; '));
    }
    const hits = asked.filter((a) => a.value || a.error?.code === 'E_NOT_RUNNING' || a.error?.code === 'E_AMBIGUOUS');
    const failures = asked.filter((a) => a.error && !hits.includes(a) && a.error.code !== 'E_NOT_FOUND')
      .map((a) => a.error!.message);
    if (hits.length > 1) {
      throw new ScopeError('E_AMBIGUOUS',
        `"${ref}" names a container in ${hits.length} runtimes (${hits.map((h) => h.runtime).join(', ')}); ` +
        `say which with --runtime`, { details: { runtimes: hits.map((h) => h.runtime) } });
    }
    if (hits.length === 1) {
      const [hit] = hits;
      if (hit.error) throw hit.error;
      return hit.value!;
    }
    throw new ScopeError('E_NOT_FOUND',
      `no container "${ref}" in any available runtime (${asked.map((a) => a.runtime).join(', ')})` +
      (failures.length ? `; errors: ${failures.join('; ')}` : ''),
      { details: { runtimes: asked.map((a) => a.runtime), errors: failures } });
  }

  /** Containers of one runtime, or with "all" of every available one (the others are reported, not fatal). */
  async list(selector: string):
    Promise<{ containers: Container[]; unavailable: { runtime: string; reason: string }[] }> {
    if (selector !== ALL && selector !== AUTO) return {
      containers: await this.runtime(selector).list(), unavailable: [],
    };
    const answers = await this.askAvailable((r) => r.adapter.list(), 'listing containers');
    const containers = answers.flatMap((a) => a.value ?? []);
    const unavailable = answers.filter((a) => !a.value)
      .map((a) => ({ runtime: a.runtime, reason: a.unavailable ?? a.error?.message ?? 'unavailable' }));
    return { containers, unavailable };
  }

  /** Closes every adapter, then the parts they shared (a gRPC channel would keep the process alive). */
  async close(): Promise<void> {
    await Promise.allSettled(this.loaded.map((r) => r.adapter.close()));
    await this.builtins.dispose();
  }

  /**
   * Puts `question` to every runtime, each bounded by its own deadline: a slow one does not hold back
   * the others, and none costs more than its deadline. One that cannot be reached is unavailable.
   */
  private askAvailable<T>(question: (r: LoadedRuntime) => Promise<T>, doing: string,
    among = this.loaded): Promise<Answer<T>[]> {
    return Promise.all(among.map(async (r): Promise<Answer<T>> => {
      try {
        return await r.adapter.within(async () => {
          // The question first: a probe before it cost a round trip (and classic LXC a tool) to every
          // runtime that was there, on every auto and all. Only a runtime that cannot answer is probed,
          // so that its reason is the probe's, as `scope-engine runtimes` says it.
          try {
            return { runtime: r.name, value: await question(r) };
          } catch (err) {
            if (toScopeError(err).code !== 'E_RUNTIME_UNAVAILABLE') throw err;
            const probe = await r.adapter.probe();
            if (!probe.available) return { runtime: r.name, unavailable: probe.reason ?? 'unavailable' };
            throw err;
          }
        }, doing);
      } catch (err) {
        return { runtime: r.name, error: toScopeError(err) };
      }
    }));
  }
}
