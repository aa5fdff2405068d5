import { ScopeError } from '../base/errors';
import { DAEMON_TIMEOUT_ENV, DEFAULT_DAEMON_TIMEOUT_MS, timeoutFrom } from '../core/config/timeouts';
import type { Env, Options } from '../core/tokens';

/**
 * How long one request to the runtime's daemon may take: the entry's "timeoutMs" option, else
 * SCOPE_ENGINE_DAEMON_TIMEOUT_MS, else 3 s. Past it the daemon counts as dead (E_RUNTIME_UNAVAILABLE).
 */
export function daemonTimeoutMs(options: Options, env: Env): number {
  const v = options.timeoutMs;
  if (v !== undefined && !(Number.isInteger(v) && (v as number) > 0)) {
    throw new ScopeError('E_PLUGIN_CONFIG',
      `option "timeoutMs" is ${JSON.stringify(v)}: give a positive number of milliseconds`);
  }
  return timeoutFrom(v as number | undefined, env, DAEMON_TIMEOUT_ENV, DEFAULT_DAEMON_TIMEOUT_MS);
}
