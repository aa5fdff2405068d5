/**
 * Loading third-party in-process adapters named by a "module" entry: a path relative to the plugins
 * file, or an npm package installed where the plugins file or the current directory can see it.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { ScopeError } from '../../base/errors';
import { withDeadline } from '../../base/deadline';
import { whyNotARuntime, type Container, type ContainerRuntime, type ProbeResult } from '../runtime';
import { configError, type ModuleEntry } from '../config/entries';
import { HandleScope } from './handle-scope';

/**
 * Imports and builds the adapter of a "module" entry within `timeoutMs`. A module whose evaluation
 * never settles (a top-level await on something that never comes) would leave the engine with an
 * empty event loop, and Node would end the process with status 0 having done nothing; one waiting
 * on a timer would hang the CLI. Both are E_PLUGIN_TIMEOUT naming the file and the entry, and what
 * the module started meanwhile is let go, so that the process can still exit.
 */
export async function loadModuleAdapter(entry: ModuleEntry, timeoutMs: number): Promise<ContainerRuntime> {
  const where = locate(entry);
  const scope = new HandleScope();
  try {
    return await withDeadline(scope.run(() => importAdapter(entry, where)), timeoutMs, () => new ScopeError(
      'E_PLUGIN_TIMEOUT', `plugins file ${entry.file.path}: entry ${entry.index} ("${entry.name}"): ` +
      `loading module ${where} did not finish within ` +
      `${timeoutMs} ms (a top-level await that never settles?); raise "importTimeoutMs" if it is only slow`,
    { details: { file: entry.file.path, entry: entry.index, name: entry.name } }), () => scope.abandon());
  } finally {
    scope.settle();
  }
}

/**
 * Stands in for an adapter whose module could not be loaded in time: it is unavailable, says why,
 * and using it is that error, while the other runtimes go on working.
 */
export class UnloadedRuntime implements ContainerRuntime {
  constructor(readonly name: string, private readonly why: ScopeError) {}

  async probe(): Promise<ProbeResult> {
    return { available: false, reason: this.why.message };
  }

  async list(): Promise<Container[]> {
    throw this.why;
  }

  async resolve(): Promise<Container> {
    throw this.why;
  }
}

async function importAdapter(entry: ModuleEntry, where: string): Promise<ContainerRuntime> {
  let mod: Record<string, unknown>;
  try {
    // import() of a file URL loads CommonJS and ES modules alike.
    mod = await import(pathToFileURL(where).href);
  } catch (err) {
    throw configError(entry.file, entry.index, entry.name, `loading module ${where}: ${(err as Error).message}`, err);
  }
  // CommonJS `exports.default = x` arrives as { default: { default: x } } through import().
  let exported = mod.default as unknown;
  if (exported && typeof exported === 'object' && 'default' in exported && !('probe' in exported)) {
    exported = (exported as { default: unknown }).default;
  }
  if (exported === undefined) {
    throw configError(entry.file, entry.index, entry.name, `module ${where} has no default export`);
  }
  const adapter = typeof exported === 'function' ? await instantiate(exported, entry, where) : exported;
  const why = whyNotARuntime(adapter);
  if (why) {
    throw configError(entry.file, entry.index, entry.name,
      `the default export of ${where} does not implement ContainerRuntime: ${why}`);
  }
  return adapter as ContainerRuntime;
}

function locate(entry: ModuleEntry): string {
  const spec = entry.module;
  const base = dirname(entry.file.path);
  if (isAbsolute(spec)) return spec;
  if (spec.startsWith('./') || spec.startsWith('../')) return resolve(base, spec);
  try {
    return require.resolve(spec, { paths: [base, process.cwd()] });
  } catch (err) {
    throw configError(entry.file, entry.index, entry.name,
      `cannot find npm package "${spec}" from ${base} or ${process.cwd()}; install it there or give a path`, err);
  }
}

/** A default export that is a class or factory is called with the entry's options. */
async function instantiate(fn: Function, entry: ModuleEntry, where: string): Promise<unknown> {
  try {
    const isClass = /^class[\s{]/.test(Function.prototype.toString.call(fn));
    return isClass
      ? new (fn as new (o: unknown) => unknown)(entry.options)
      : await (fn as (o: unknown) => unknown)(entry.options);
  } catch (err) {
    throw configError(entry.file, entry.index, entry.name,
      `creating the adapter from ${where}: ${(err as Error).message}`, err);
  }
}
