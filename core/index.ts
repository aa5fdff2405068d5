/**
 * scope-engine as a library. The library registers no adapter itself: import the ones you want
 * (they register on import, as Go drivers do), then build an engine:
 *
 *   import 'scope-engine/adapters/docker';
 *   import { createEngine } from 'scope-engine';
 *   const engine = await createEngine();
 *   await engine.resolve('docker', 'web');
 */
import 'reflect-metadata';

export * from '../base/errors';
export * from './runtime';
export * from './flows';
export { runDoctor, tryTracing, type Check, type DoctorOptions, type DoctorReport, type Status, type Trial }
  from './doctor/index';
export { Engine, AUTO, ALL, type LoadedRuntime, type RuntimeStatus } from './engine';
export { register, builtinRegistry, Registry, type Builtin, type OptionSpec } from './registry';
export { Caller, Clock, Env, HostRoot, Options, Spawn } from './tokens';
export { ConfigFiles, configFilesFor } from './config/files';
export type { ConfigFile } from './config/entries';
export { createEngine, engineContainer, type EngineOptions } from './create';
