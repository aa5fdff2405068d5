/**
 * Registration the way Go programs register plugins (containerd's plugin.Register, database/sql's
 * sql.Register): each built-in adapter's module calls `register()` when it is imported, saying what
 * it is, what it needs and how to build it; the engine initialises what plugins.json asks for.
 */
import type { DependencyContainer } from 'tsyringe';
import { ScopeError } from './errors';

/** Kinds of registered parts. A runtime is what `--runtime` names; a client is shared by runtimes. */
export type PluginType = 'runtime' | 'client';

/** What a registration's init function is handed. */
export interface InitContext {
  /** The plugins.json entry's name (for a runtime, what `--runtime` takes). */
  readonly name: string;
  /** The entry's "options" object, as written there. */
  readonly options: Readonly<Record<string, unknown>>;
  /** A child DI container of the engine's: resolve services here, register overrides in tests. */
  readonly container: DependencyContainer;
  /** A required part ("client.containerd"), initialised once per engine and shared. */
  get<T>(key: string): Promise<T>;
}

export interface Registration<T = unknown> {
  type: PluginType;
  id: string;
  /** Keys ("type.id") of the parts that must be initialised first. */
  requires?: string[];
  /** One line for `scope-engine runtimes --json` and error messages. */
  description?: string;
  init(ctx: InitContext): T | Promise<T>;
}

export const keyOf = (r: Pick<Registration, 'type' | 'id'>): string => `${r.type}.${r.id}`;

export class Registry {
  private readonly entries = new Map<string, Registration>();

  /** Adds a registration; refuses a second one with the same type and id. Returns an unregister handle. */
  register(reg: Registration): () => void {
    const key = keyOf(reg);
    if (this.entries.has(key)) throw new ScopeError('E_INTERNAL', `plugin ${key} is registered twice`);
    this.entries.set(key, reg);
    return () => {
      if (this.entries.get(key) === reg) this.entries.delete(key);
    };
  }

  get(key: string): Registration | undefined {
    return this.entries.get(key);
  }

  /** Registered ids of one type, sorted, for messages that list what exists. */
  ids(type: PluginType): string[] {
    return [...this.entries.values()].filter((r) => r.type === type).map((r) => r.id).sort();
  }
}

/** The process-wide registry built-in adapters register into on import. */
export const builtinRegistry = new Registry();

/** What built-in modules call at import time, like a Go package's init(). */
export function register<T>(reg: Registration<T>): () => void {
  return builtinRegistry.register(reg as Registration);
}
