/**
 * Loading third-party in-process adapters named by a "module" entry: a path relative to the plugins
 * file, or an npm package installed where the plugins file or the current directory can see it.
 */
import { dirname, isAbsolute, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { GrpcPluginRuntime } from '../grpc-plugin/runtime';
import { whyNotARuntime, type ContainerRuntime } from '../runtime';
import { configError, type CommandEntry, type ModuleEntry } from './config';

export async function loadModuleAdapter(entry: ModuleEntry): Promise<ContainerRuntime> {
  const where = locate(entry);
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

/** An out-of-process adapter: nothing starts until it is first used. */
export function grpcPluginAdapter(entry: CommandEntry): ContainerRuntime {
  const base = dirname(entry.file.path);
  const command = entry.command.startsWith('./') || entry.command.startsWith('../') ? resolve(base, entry.command) : entry.command;
  return new GrpcPluginRuntime(entry.name, {
    name: entry.name, command, args: entry.args, env: entry.env,
    startTimeoutMs: entry.startTimeoutMs ?? 10_000, callDeadlineMs: entry.callDeadlineMs ?? 10_000,
  });
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
    return isClass ? new (fn as new (o: unknown) => unknown)(entry.options) : await (fn as (o: unknown) => unknown)(entry.options);
  } catch (err) {
    throw configError(entry.file, entry.index, entry.name, `creating the adapter from ${where}: ${(err as Error).message}`, err);
  }
}
