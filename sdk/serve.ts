/**
 * serve(adapter): a ContainerRuntime implementation as a standalone plugin program that scope-engine,
 * or any go-plugin host, can load: the magic cookie checked, a unix socket in the directory the host
 * names, the handshake line first on stdout, the adapter service, the health service ("plugin"),
 * go-plugin's controller (Shutdown) and stdio stream, and hclog JSON on stderr.
 */
import { randomInt } from 'node:crypto';
import { fstatSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import {
  APP_PROTOCOL_VERSION, CORE_PROTOCOL_VERSION, HEALTH_SERVICE, MAGIC_COOKIE_KEY, MAGIC_COOKIE_VALUE, pluginProtos,
  STATUS_CODES,
} from '../core/plugin/protos';
import type { ContainerRuntime } from '../core/runtime';
import { toWire } from '../core/plugin/wire';
import { hclog } from './hclog';

const CODE_TO_STATUS = new Map<string, number>(STATUS_CODES.map(([status, code]) => [code, status]));

export async function serve(adapter: ContainerRuntime): Promise<void> {
  if (process.env[MAGIC_COOKIE_KEY] !== MAGIC_COOKIE_VALUE) {
    process.stderr.write('This binary is a plugin. These are not meant to be executed directly.\n' +
      'Please execute the program that consumes these plugins, which will\nload any plugins automatically\n');
    process.exit(1);
  }
  const offered = (process.env.PLUGIN_PROTOCOL_VERSIONS ?? String(APP_PROTOCOL_VERSION)).split(',').map(Number);
  if (!offered.includes(APP_PROTOCOL_VERSION)) {
    hclog('error', 'no common protocol version', { host: offered, plugin: APP_PROTOCOL_VERSION });
  }
  if (process.env.PLUGIN_CLIENT_CERT) {
    hclog('error', 'the host asked for TLS (AutoMTLS), which this plugin does not support');
    process.exit(1);
  }
  const { grpc: grpcJs } = pluginProtos();
  const socketDir = process.env.PLUGIN_UNIX_SOCKET_DIR || process.env.TMPDIR || tmpdir();
  const socketPath = join(socketDir, `plugin${randomInt(100000000, 999999999)}`);
  const stdout = captureStdout();

  const shutdown = (why: string) => {
    hclog('debug', 'plugin shutting down', { reason: why });
    server.forceShutdown();
    rmSync(socketPath, { force: true });
    process.exit(0);
  };

  const server = pluginServer(adapter, {
    shutdown: () => setImmediate(() => shutdown('GRPCController.Shutdown')), stdio: stdout.attach,
  });

  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${socketPath}`,
    grpcJs.ServerCredentials.createInsecure(),
    (err) => (err ? reject(err) : resolve())));
  // go-plugin ignores interrupts: a Ctrl-C meant for the host reaches the whole process group.
  process.on('SIGINT', () => undefined);
  process.on('SIGTERM', () => shutdown('SIGTERM'));
  // Started by scope-engine, stdin is a pipe it never writes: its end means the engine is gone.
  if (fstatSync(0).isFIFO()) process.stdin.on('end', () => shutdown('the host closed stdin')).resume();
  stdout.handshake(`${CORE_PROTOCOL_VERSION}|${APP_PROTOCOL_VERSION}|unix|${socketPath}|grpc|\n`);
  hclog('debug', 'plugin started', { address: socketPath, network: 'unix' });
}

/**
 * The services a plugin offers for `adapter`, without the process around them (cookie, handshake,
 * signals): serve() binds it for the engine, and the in-process test harness binds it for a test.
 */
export function pluginServer(adapter: ContainerRuntime, on: {
  /** GRPCController.Shutdown was called (after it was answered). */
  shutdown: () => void;
  /** The host opened GRPCStdio: what the adapter prints goes there. */
  stdio?: (call: grpc.ServerWritableStream<unknown, unknown>) => void;
}): grpc.Server {
  const { grpc: grpcJs, runtime, health, controller, stdio } = pluginProtos();
  const server = new grpcJs.Server({ 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 });
  const unary = <Req, Res>(fn: (req: Req) => Promise<Res>) => (call: grpc.ServerUnaryCall<Req, Res>,
    cb: grpc.sendUnaryData<Res>) => {
    fn(call.request).then((res) => cb(null, res), (err: { code?: string; message?: string }) => {
      cb({ code: CODE_TO_STATUS.get(err.code ?? '') ?? grpcJs.status.UNKNOWN, details: err.message ?? String(err) });
    });
  };
  server.addService(runtime.service, {
    Probe: unary(async () => {
      const p = await adapter.probe();
      return { available: p.available, reason: p.reason ?? '', version: p.version ?? '' };
    }),
    List: unary(async () => ({ containers: (await adapter.list()).map(toWire) })),
    Resolve: unary(async (req: { ref: string }) => ({ container: toWire(await adapter.resolve(req.ref)) })),
  });
  server.addService(health.service, {
    Check: (call: grpc.ServerUnaryCall<{ service: string }, unknown>, cb: grpc.sendUnaryData<unknown>) => {
      if (call.request.service === '' || call.request.service === HEALTH_SERVICE) cb(null, { status: 'SERVING' });
      else cb({ code: grpcJs.status.NOT_FOUND, details: `unknown service ${call.request.service}` });
    },
  });
  server.addService(controller.service, {
    Shutdown: (_call: unknown, cb: grpc.sendUnaryData<unknown>) => {
      cb(null, {});
      on.shutdown();
    },
  });
  server.addService(stdio.service, {
    StreamStdio: (call: grpc.ServerWritableStream<unknown, unknown>) => on.stdio?.(call),
  });
  return server;
}

/**
 * The handshake must be the first thing on stdout; anything the adapter prints afterwards goes to
 * the host over GRPCStdio instead (go-plugin does the same with os.Stdout), or nowhere.
 */
function captureStdout() {
  const write = process.stdout.write.bind(process.stdout);
  let stream: grpc.ServerWritableStream<unknown, unknown> | undefined;
  let handshakeDone = false;
  process.stdout.write = ((chunk: string | Uint8Array) => {
    if (handshakeDone && stream) stream.write({ channel: 'STDOUT', data: Buffer.from(chunk) });
    return true;
  }) as typeof process.stdout.write;
  return {
    handshake(line: string) {
      write(line);
      handshakeDone = true;
    },
    attach(call: grpc.ServerWritableStream<unknown, unknown>) {
      stream = call;
      call.on('cancelled', () => { if (stream === call) stream = undefined; });
    },
  };
}
