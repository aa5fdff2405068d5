/**
 * Built-in adapters register the way Go programs register drivers (database/sql's sql.Register,
 * containerd's plugin.Register): each adapter's module calls `register()` when it is imported, and
 * the composition root (the CLI, a library user) decides which modules to import. The engine then
 * builds, through tsyringe, the built-ins plugins.json asks for.
 */
import { ScopeError } from '../base/errors';
import type { ContainerRuntime } from './runtime';

/** A class tsyringe can build: its parameters are injected. */
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- any constructor, whatever it takes
export type Class<T> = new (...args: any[]) => T;

/** An option a built-in takes in plugins.json, and as a command-line flag when `flag` is set. */
export interface OptionSpec {
  /** The key under "options" in plugins.json, e.g. "namespace". */
  name: string;
  /** The flag that sets it for every built-in declaring it, as commander spells it: "--namespace <ns>". */
  flag?: string;
  help: string;
}

export interface Builtin {
  /** A runtime is what `--runtime` names; a client is one connection shared by runtimes (containerd's). */
  kind: 'runtime' | 'client';
  id: string;
  /** One line for `scope-engine runtimes --json` and error messages. */
  description?: string;
  /**
   * The class the engine builds. Its constructor takes by injection what it needs: `Options`, `Env`,
   * `Caller`, `Spawn`, `HostRoot` (core/tokens.ts) and, for a runtime, any client class by its type.
   * A client is built once per engine and ended with its `dispose()`.
   */
  make: Class<ContainerRuntime> | Class<unknown>;
  options?: OptionSpec[];
  /** A runtime's own reference syntax besides names and IDs, as its instances' refPattern (cri's NAMESPACE/POD). */
  refPattern?: RegExp;
}

export class Registry {
  private readonly entries = new Map<string, Builtin>();

  /** Adds a built-in; refuses a second one of the same kind and id. Returns an unregister handle. */
  register(b: Builtin): () => void {
    const key = `${b.kind}.${b.id}`;
    if (this.entries.has(key)) throw new ScopeError('E_INTERNAL', `built-in ${key} is registered twice`);
    this.entries.set(key, b);
    return () => {
      if (this.entries.get(key) === b) this.entries.delete(key);
    };
  }

  get(kind: Builtin['kind'], id: string): Builtin | undefined {
    return this.entries.get(`${kind}.${id}`);
  }

  /** Every built-in of one kind, sorted by id. */
  all(kind: Builtin['kind']): Builtin[] {
    // By code unit, not localeCompare: ids are ASCII, and the first localeCompare of a process loads ICU's
    // collator, which cost every command several milliseconds.
    return [...this.entries.values()].filter((b) => b.kind === kind)
      .sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0));
  }

  /** Ids of one kind, for messages that list what exists. */
  ids(kind: Builtin['kind']): string[] {
    return this.all(kind).map((b) => b.id);
  }

  /** The options the runtimes declare with a flag, each flag once (ctr and nerdctl share --namespace). */
  flags(): OptionSpec[] {
    const seen = new Map<string, OptionSpec>();
    for (const b of this.all('runtime')) for (const o of b.options ?? [])
      if (o.flag && !seen.has(o.name)) seen.set(o.name, o);
    return [...seen.values()];
  }
}

/** The process-wide registry the built-in adapters' modules register into when imported. */
export const builtinRegistry = new Registry();

/** What a built-in adapter's module calls at import time, like a Go package's init(). */
export function register(b: Builtin): () => void {
  return builtinRegistry.register(b);
}
