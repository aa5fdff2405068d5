/**
 * scope-engine as a library: `const engine = await createEngine(); await engine.resolve('docker', 'web')`.
 */
import 'reflect-metadata';
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import './builtins';
import { Engine } from './engine';
import { DIContainer, Env } from './env';
import { PluginFiles, pluginFilesFor } from './plugins/files';
import { builtinRegistry, Registry } from './registry';

export * from './errors';
export * from './runtime';
export { Engine, AUTO, ALL, type LoadedRuntime, type RuntimeStatus } from './engine';
export { register, builtinRegistry, Registry, type Registration, type InitContext } from './registry';
export { Env, DIContainer } from './env';
export { PluginFiles, pluginFilesFor } from './plugins/files';
export type { PluginFile } from './plugins/config';

export interface EngineOptions {
  /** Extra plugins files, as with --plugins. */
  plugins?: string[];
  /** The environment to read instead of process.env. */
  env?: Env;
  /** A container to build in; its registrations override the defaults (tests swap parts here). */
  parent?: DependencyContainer;
}

/** A child DI container holding the engine's defaults; anything already registered in `parent` wins. */
export function engineContainer(opts: EngineOptions = {}): DependencyContainer {
  const parent = opts.parent ?? rootContainer;
  const c = parent.createChildContainer();
  const env = opts.env ?? (parent.isRegistered(Env, true) ? parent.resolve<Env>(Env) : process.env);
  c.register(DIContainer, { useValue: c });
  if (!parent.isRegistered(Env, true)) c.register(Env, { useValue: env });
  if (!parent.isRegistered(Registry, true)) c.register(Registry, { useValue: builtinRegistry });
  if (!parent.isRegistered(PluginFiles, true)) c.register(PluginFiles, { useValue: pluginFilesFor(env, opts.plugins) });
  return c;
}

/** Builds an engine and loads its adapters. */
export async function createEngine(opts: EngineOptions = {}): Promise<Engine> {
  return engineContainer(opts).resolve(Engine).load();
}
