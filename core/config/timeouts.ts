/**
 * How long the engine waits for the parts it does not control: importing a plugin module, one call
 * of an adapter, one request to a runtime's daemon. A value in plugins.json wins over the
 * environment, which wins over the default; each default is a few seconds, so that one dead or hung
 * runtime costs `--runtime auto` that long at most, and never hides the others.
 */
import type { Env } from '../tokens';
import { log } from '../../base/log';

/** import() of a "module" entry (plugins.json "importTimeoutMs", SCOPE_ENGINE_IMPORT_TIMEOUT_MS). */
export const DEFAULT_IMPORT_TIMEOUT_MS = 5_000;
/** One probe/list/resolve/close of any adapter (plugins.json "callDeadlineMs", SCOPE_ENGINE_CALL_DEADLINE_MS). */
export const DEFAULT_CALL_DEADLINE_MS = 5_000;
/** One request to docker, podman, LXD or containerd (option "timeoutMs", SCOPE_ENGINE_DAEMON_TIMEOUT_MS). */
export const DEFAULT_DAEMON_TIMEOUT_MS = 3_000;

export const IMPORT_TIMEOUT_ENV = 'SCOPE_ENGINE_IMPORT_TIMEOUT_MS';
export const CALL_DEADLINE_ENV = 'SCOPE_ENGINE_CALL_DEADLINE_MS';
export const DAEMON_TIMEOUT_ENV = 'SCOPE_ENGINE_DAEMON_TIMEOUT_MS';

/**
 * `configured` (from plugins.json, already checked by the schema), else the variable `name` of
 * `env`, else `fallback`. A malformed variable is warned about and ignored: it must not stop every
 * command, any more than one bad DOCKER_HOST may.
 */
export function timeoutFrom(configured: number | undefined, env: Env, name: string, fallback: number): number {
  if (configured !== undefined) return configured;
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  if (/^[1-9]\d{0,8}$/.test(raw)) return Number(raw);
  log('warn', 'engine', `${name}=${JSON.stringify(raw)} is not a number of milliseconds; using ${fallback}`);
  return fallback;
}
