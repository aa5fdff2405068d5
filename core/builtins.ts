/**
 * Builds the built-in adapters plugins.json asks for, every one the same way: a child DI container
 * of the engine's holding the entry's options, in which tsyringe builds the registered class and
 * whatever it asks for (a shared client, the environment, the caller).
 */
import type { DependencyContainer } from 'tsyringe';
import { toScopeError } from '../base/errors';
import { configError, type BuiltinEntry } from './config/entries';
import type { Registry } from './registry';
import { LazyRuntime } from './lazy-runtime';
import type { ContainerRuntime } from './runtime';
import { Options } from './tokens';

export class Builtins {
  private readonly children: DependencyContainer[] = [];

  /** `flags`: option values from the command line, given to every built-in that declares the option. */
  constructor(private readonly di: DependencyContainer, private readonly registry: Registry,
    private readonly flags: Options) {}

  has(id: string): boolean {
    return this.registry.get('runtime', id) !== undefined;
  }

  /**
   * The entry's adapter: built now when the file or the command line gives it options (which it may
   * refuse: that must happen at load), else when first asked (LazyRuntime).
   */
  runtime(entry: BuiltinEntry): ContainerRuntime {
    const b = this.registry.get('runtime', entry.builtin);
    const flagged = (b?.options ?? []).some((o) => this.flags[o.name] !== undefined);
    if (!b || flagged || Object.keys(entry.options ?? {}).length) return this.build(entry);
    return new LazyRuntime(entry.name, () => this.build(entry), b.refPattern);
  }

  build(entry: BuiltinEntry): ContainerRuntime {
    const b = this.registry.get('runtime', entry.builtin);
    if (!b) {
      throw configError(entry.file, entry.index, entry.name,
        `no built-in runtime "${entry.builtin}"; built-ins are: ${this.registry.ids('runtime').join(', ')}`);
    }
    const options: Record<string, unknown> = { ...entry.options };
    for (const o of b.options ?? []) if (this.flags[o.name] !== undefined) options[o.name] = this.flags[o.name];
    const child = this.di.createChildContainer();
    this.children.push(child);
    child.register(Options, { useValue: options });
    try {
      return child.resolve(b.make) as ContainerRuntime;
    } catch (err) {
      // An adapter refusing its options knows which option, not which file and entry: say those too.
      const e = toScopeError(err, `building built-in ${b.id}`);
      if (e.code === 'E_PLUGIN_CONFIG' && e.details?.file === undefined) throw configError(
        entry.file, entry.index, entry.name, e.message, e);
      throw e;
    }
  }

  /** Ends the shared clients (a gRPC channel would keep the process alive). */
  async dispose(): Promise<void> {
    await Promise.allSettled(this.children.map((c) => c.dispose()));
  }
}
