import type { InjectionToken } from 'tsyringe';
import type { Env } from '../core/env';
import { ScopeError } from '../core/errors';
import { DAEMON_TIMEOUT_ENV, DEFAULT_DAEMON_TIMEOUT_MS, timeoutFrom } from '../core/plugins/timeouts';
import type { InitContext } from '../core/registry';

/** The "options" object of an adapter's plugins.json entry, injectable into the adapter's constructor. */
export type PluginOptions = Readonly<Record<string, unknown>>;
export const PluginOptions = Symbol('PluginOptions');

/** The init of a registration whose adapter class takes its options (and Env) by injection. */
export function injectedInit<T>(cls: InjectionToken<T>) {
  return (ctx: InitContext): T => {
    ctx.container.register(PluginOptions, { useValue: ctx.options });
    return ctx.container.resolve(cls);
  };
}

/**
 * How long one request to the runtime's daemon may take: the entry's "timeoutMs" option, else
 * SCOPE_ENGINE_DAEMON_TIMEOUT_MS, else 3 s. Past it the daemon counts as dead (E_RUNTIME_UNAVAILABLE).
 */
export function daemonTimeoutMs(options: PluginOptions, env: Env): number {
  const v = options.timeoutMs;
  if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
    throw new ScopeError('E_PLUGIN_CONFIG', `option "timeoutMs" is ${JSON.stringify(v)}: give a positive number of milliseconds`);
  }
  return timeoutFrom(v as number | undefined, env, DAEMON_TIMEOUT_ENV, DEFAULT_DAEMON_TIMEOUT_MS);
}
