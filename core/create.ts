/**
 * Building an engine: its DI container, with a default for every token, and the adapters loaded.
 * Apart from the barrel (index.ts) so that a command that only builds an engine and asks a runtime
 * (resolve, ps) does not load every flow with it.
 */
import 'reflect-metadata';
import { container as rootContainer, instanceCachingFactory, type DependencyContainer } from 'tsyringe';
import { Builtins } from './builtins';
import { ConfigFiles, configFilesFor } from './config/files';
import { Engine } from './engine';
import { builtinRegistry, Registry } from './registry';
import { Caller, Clock, Env, HostRoot, Options, processDefaults, Spawn } from './tokens';

export interface EngineOptions {
  /** Extra plugins files, as with --plugins. */
  plugins?: string[];
  /** The environment to read instead of process.env. */
  env?: Env;
  /** Built-ins' option values that win over plugins.json, as the CLI's --namespace and --lxcpath do. */
  options?: Options;
  /** The directory the host's root is mounted at, as with --host-root; by default found (see native/host-root.ts). */
  hostRoot?: string;
  /** A container to build in; what is registered there wins over the defaults (tests swap parts here). */
  parent?: DependencyContainer;
}

/**
 * The engine's DI container: a child of `parent` holding a default for every token the parent
 * does not register. This is the one place where defaults are chosen.
 */
export function engineContainer(opts: EngineOptions = {}): DependencyContainer {
  const parent = opts.parent ?? rootContainer;
  const c = parent.createChildContainer();
  const missing = (token: symbol | Function) => !parent.isRegistered(token as symbol, true);
  if (opts.env || missing(Env)) c.register(Env, { useValue: opts.env ?? processDefaults.env() });
  if (missing(Caller)) c.register(Caller, { useValue: processDefaults.caller() });
  if (missing(Spawn)) c.register(Spawn, { useValue: processDefaults.spawn });
  if (missing(Clock)) c.register(Clock, { useValue: processDefaults.clock });
  if (opts.hostRoot !== undefined || missing(HostRoot)) {
    c.register(HostRoot, { useValue: processDefaults.hostRoot(opts.hostRoot) });
  }
  if (missing(Registry)) c.register(Registry, { useValue: builtinRegistry });
  if (missing(ConfigFiles)) c.register(ConfigFiles, {
    useFactory: (d) => configFilesFor(d.resolve<Env>(Env), opts.plugins),
  });
  // A client (containerd's) is one per engine, shared by the runtimes that take it.
  for (const client of c.resolve(Registry).all('client')) if (missing(client.make)) c.registerSingleton(client.make);
  c.register(Builtins, {
    useFactory: instanceCachingFactory((d) => new Builtins(d, d.resolve(Registry), opts.options ?? {})),
  });
  return c;
}

/** Builds an engine and loads its adapters. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  return engineContainer(opts).resolve(Engine).load();
}
