/** Where the Docker-API daemon listens: DOCKER_HOST (or an adapter option) parsed for dockerode. */
import type { Env, HostRoot } from '../../core/tokens';
import { ScopeError } from '../../base/errors';

export interface Endpoint {
  /** As the user wrote it, for messages: "unix:///var/run/docker.sock". */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
  /**
   * Why this endpoint cannot be used (an unparsable address in the environment). The adapter is
   * then unavailable and says this, instead of taking every other runtime down with it.
   */
  problem?: string;
}

/**
 * Parses `unix:///path` and `tcp://host:port`; undefined for anything else. ssh:// and others are
 * refused: a PID reported by a daemon on another machine names a process there, and scope-engine
 * acts on this machine's processes.
 */
export function parseEndpoint(url: string): Endpoint | undefined {
  if (url.startsWith('/')) return { url: `unix://${url}`, socketPath: url };
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (m?.[1] === 'unix' && m[2].startsWith('/')) return { url, socketPath: m[2] };
  if (m?.[1] === 'tcp') {
    const hp = /^\[?([^\]]+?)\]?:(\d+)$/.exec(m[2]);
    if (hp && Number(hp[2]) > 0 && Number(hp[2]) < 65536) return { url, host: hp[1], port: Number(hp[2]) };
  }
  return undefined;
}

/** `e` with its socket found under the host's root: an address names the host's file, wherever the engine runs. */
export function inHostRoot(e: Endpoint, hostRoot: HostRoot): Endpoint {
  return e.socketPath && !e.problem ? { ...e, socketPath: hostRoot.path(e.socketPath) } : e;
}

const WANTED = 'give unix:///path/to.sock or tcp://host:port of a daemon on this machine';

/**
 * The endpoint an adapter uses: its plugins.json "host" option (a bad one is E_PLUGIN_CONFIG, which
 * the engine completes with the file and entry), else the variable `envName`, else `fallback`. A
 * bad variable does not throw: it is the environment of every command, and only this runtime is
 * at fault, so the endpoint carries the problem and the adapter reports itself unavailable.
 */
export function chooseEndpoint(option: unknown, env: Env, envName: string, fallback: () => string): Endpoint {
  if (option !== undefined) {
    const parsed = typeof option === 'string' ? parseEndpoint(option) : undefined;
    if (!parsed) throw new ScopeError('E_PLUGIN_CONFIG', `option "host" is ${JSON.stringify(option)}: ${WANTED}`);
    return parsed;
  }
  const value = env[envName];
  if (!value) return parseEndpoint(fallback())!;
  return parseEndpoint(value) ?? {
    url: value,
    problem: `${envName}=${JSON.stringify(value)} is not an address scope-engine can use: ${WANTED}`,
  };
}
