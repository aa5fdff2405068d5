/** Where the Docker-API daemon listens: DOCKER_HOST (or an adapter option) parsed for dockerode. */
import { ScopeError } from '../../core/errors';

export interface Endpoint {
  /** As the user wrote it, for messages: "unix:///var/run/docker.sock". */
  url: string;
  socketPath?: string;
  host?: string;
  port?: number;
}

/**
 * Parses `unix:///path` and `tcp://host:port`. ssh:// and others are refused: a PID reported by a
 * daemon on another machine names a process there, and scope-engine acts on this machine's processes.
 */
export function parseEndpoint(url: string): Endpoint {
  if (url.startsWith('/')) return { url: `unix://${url}`, socketPath: url };
  const m = /^([a-z]+):\/\/(.*)$/.exec(url);
  if (m?.[1] === 'unix' && m[2].startsWith('/')) return { url, socketPath: m[2] };
  if (m?.[1] === 'tcp') {
    const hp = /^\[?([^\]]+?)\]?:(\d+)$/.exec(m[2]);
    if (hp) return { url, host: hp[1], port: Number(hp[2]) };
  }
  throw new ScopeError('E_USAGE',
    `unsupported daemon address "${url}": give unix:///path/to.sock or tcp://host:port of a daemon on this machine`);
}
