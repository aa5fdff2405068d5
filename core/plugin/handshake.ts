/**
 * go-plugin's handshake, host side: the environment a plugin is started with and the first line it
 * prints, `CORE|APP|NETWORK|ADDRESS|PROTOCOL|SERVER-CERT[|MUX]`.
 */
import { ScopeError } from '../../base/errors';
import { APP_PROTOCOL_VERSION, CORE_PROTOCOL_VERSION, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE } from './protos';

export interface Handshake {
  network: 'unix' | 'tcp';
  address: string;
  appVersion: number;
}

/** The variables go-plugin's host sets (never PLUGIN_MULTIPLEX_GRPC: we do not speak yamux). */
export function pluginEnv(socketDir: string): Record<string, string> {
  return {
    [MAGIC_COOKIE_KEY]: MAGIC_COOKIE_VALUE,
    PLUGIN_PROTOCOL_VERSIONS: String(APP_PROTOCOL_VERSION),
    PLUGIN_MIN_PORT: '10000',
    PLUGIN_MAX_PORT: '25000',
    // Plugins from go-plugin 1.5 on honour PLUGIN_UNIX_SOCKET_DIR; older ones make their socket in $TMPDIR.
    PLUGIN_UNIX_SOCKET_DIR: socketDir,
    TMPDIR: socketDir,
  };
}

/** Parses the handshake line; anything else is E_PLUGIN_HANDSHAKE saying what was wrong. */
export function parseHandshake(line: string, plugin: string): Handshake {
  const fail = (why: string) => new ScopeError('E_PLUGIN_HANDSHAKE',
    `plugin ${plugin}: ${why}; its first line was ${JSON.stringify(line.slice(0, 200))}`);
  const parts = line.trim().split('|');
  if (parts.length < 4) throw fail('not a go-plugin handshake (CORE|APP|NETWORK|ADDRESS|grpc|CERT)');
  const [core, app, network, address, protocol = 'netrpc', cert = ''] = parts;
  if (Number(core) !== CORE_PROTOCOL_VERSION) throw fail(`core protocol ${core}, expected ${CORE_PROTOCOL_VERSION}`);
  if (Number(app) !== APP_PROTOCOL_VERSION) throw fail(`app protocol ${app}, expected ${APP_PROTOCOL_VERSION}`);
  if (network !== 'unix' && network !== 'tcp') throw fail(`network "${network}", expected unix or tcp`);
  if (protocol !== 'grpc') throw fail(`protocol "${protocol}": only grpc is supported, not net/rpc`);
  if (cert) throw fail('it offered a TLS certificate, which the engine did not ask for');
  if (!address) throw fail('no address');
  return { network, address, appVersion: Number(app) };
}
