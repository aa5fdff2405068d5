/**
 * An out-of-process adapter, to the rest of the engine just another ContainerRuntime. Its program
 * starts on first use (not when the engine starts), is checked with the health service, has its
 * stdio stream drained, and is asked to shut down when the engine closes. A plugin that crashed is
 * started anew on the next call; one that does not answer within the call deadline is killed.
 */
import type * as grpc from '@grpc/grpc-js';
import { withDeadline } from '../../base/deadline';
import { ScopeError } from '../../base/errors';
import { GrpcError, Status, UnaryClient } from '../../base/grpc';
import { log } from '../../base/log';
import type { Handshake } from './handshake';
import type { NetConnectOpts } from 'node:net';
import { dirname, resolve } from 'node:path';
import type { CommandEntry } from '../config/entries';
import type { Env } from '../tokens';
import { PluginProcess, type PluginCommand } from './process';
import { HEALTH_SERVICE, PROTO_DIR, pluginProtos } from './protos';
import { statusError, WireRuntime } from './wire-runtime';

export interface GrpcPluginOptions extends PluginCommand {
  callDeadlineMs: number;
}

interface Connection {
  process: PluginProcess;
  /** The adapter service's calls, through base/grpc.ts: 0.3-0.5 ms less a call than grpc-js. */
  runtime: UnaryClient;
  others: grpc.Client[];
  controller: grpc.Client & Record<string, Function>;
}

const RUNTIME_SERVICE = 'scopeengine.runtime.v1.ContainerRuntime';

export class GrpcPluginRuntime extends WireRuntime {
  private connection?: Promise<Connection>;

  constructor(readonly name: string, private readonly opts: GrpcPluginOptions) {
    super();
  }

  protected get endpoint(): string {
    return `plugin ${this.opts.command}`;
  }

  /** Shutdown through the controller (its answer may be lost: the server stops), then 2 s, then SIGKILL. */
  async close(): Promise<void> {
    const pending = this.connection;
    this.connection = undefined;
    const c = await pending?.catch(() => undefined);
    if (!c) return;
    if (c.process.alive) {
      await new Promise<void>((resolve) => c.controller.Shutdown({}, { deadline: Date.now() + 1000 }, () => resolve()));
    }
    closeClients(c);
    await c.process.stop();
  }

  protected async call<T>(method: string, req: object): Promise<T> {
    const c = await this.connect();
    try {
      return await c.runtime.call<T>(RUNTIME_SERVICE, method, req, {}, this.opts.callDeadlineMs);
    } catch (err) {
      if (!(err instanceof GrpcError)) throw err;
      // A dropped connection is usually a dead plugin whose exit has not been reported yet: let it
      // arrive, so that the error says how it ended.
      if (err.dropped) await withDeadline(c.process.exited, 500, () => new Error()).catch(() => undefined);
      throw this.explain(err, method, c);
    }
  }

  private explain(err: GrpcError, method: string, c: Connection): ScopeError {
    if (!c.process.alive || err.dropped) {
      this.connection = undefined; // the next call starts it anew
      return new ScopeError('E_PLUGIN_EXITED',
        `plugin ${this.name} ${c.process.exitReason ?? 'dropped its connection'} ` +
        `during ${method}${c.process.stderrTail()}`, { cause: err });
    }
    if (err.code === Status.DEADLINE_EXCEEDED) {
      this.connection = undefined;
      c.process.kill();
      return new ScopeError('E_PLUGIN_TIMEOUT',
        `plugin ${this.name} did not answer ${method} within ${this.opts.callDeadlineMs} ms; ` +
        `it was stopped${c.process.stderrTail()}`, { cause: err });
    }
    return statusError(this.name, err);
  }

  private connect(): Promise<Connection> {
    this.connection ??= this.start().catch((err) => {
      this.connection = undefined;
      throw err;
    });
    return this.connection;
  }

  private async start(): Promise<Connection> {
    const { process, handshake } = await PluginProcess.start(this.opts);
    const protos = pluginProtos();
    const target = dialTarget(handshake);
    // Go hosts lift the message size limits; so does this one.
    const channelOpts = { 'grpc.max_receive_message_length': -1, 'grpc.max_send_message_length': -1 };
    const creds = protos.grpc.credentials.createInsecure();
    const make = (ctor: grpc.ServiceClientConstructor) =>
      new ctor(target, creds, channelOpts) as grpc.Client & Record<string, Function>;
    const conn: Connection = {
      process, runtime: new UnaryClient(addressOf(handshake), PROTO_DIR, Infinity), controller: make(protos.controller),
      others: [],
    };
    try {
      const health = make(protos.health);
      conn.others.push(health);
      const status = await new Promise<string>((resolve, reject) => health.Check({ service: HEALTH_SERVICE },
        { deadline: Date.now() + this.opts.startTimeoutMs },
        (err: grpc.ServiceError | null, res: { status: string }) => (err ? reject(err) : resolve(res.status))));
      if (status !== 'SERVING') throw new Error(`health of "${HEALTH_SERVICE}" is ${status}`);
      conn.others.push(this.drainStdio(make(protos.stdio)));
      return conn;
    } catch (err) {
      closeClients(conn);
      process.kill();
      await process.exited;
      throw new ScopeError('E_PLUGIN_HANDSHAKE',
        `plugin ${this.name} at ${target} is not healthy: ${(err as Error).message}${process.stderrTail()}`,
        { cause: err });
    }
  }

  /** go-plugin blocks a plugin's writes until the host reads them; v1.0.1 plugins answer UNIMPLEMENTED. */
  private drainStdio(client: grpc.Client & Record<string, Function>): grpc.Client {
    const stream = client.StreamStdio({});
    stream.on('data', (d: { channel: string; data: Buffer }) => {
      for (const line of d.data.toString().split('\n').filter(Boolean)) log('debug',
        `plugin ${this.name} ${d.channel.toLowerCase()}`, line);
    });
    stream.on('error', () => undefined);
    return client;
  }

}

/** A plugin program's handshake, unless its entry says otherwise. */
export const DEFAULT_START_TIMEOUT_MS = 10_000;

/** An out-of-process adapter: nothing starts until it is first used. `callDeadlineMs` bounds each call. */
export function pluginAdapter(entry: CommandEntry, callDeadlineMs: number, env: Env): GrpcPluginRuntime {
  const base = dirname(entry.file.path);
  const command = entry.command.startsWith('./') || entry.command.startsWith('../')
    ? resolve(base, entry.command)
    : entry.command;
  return new GrpcPluginRuntime(entry.name, {
    name: entry.name, command, args: entry.args, env: { ...env, ...entry.env },
    startTimeoutMs: entry.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS, callDeadlineMs,
  });
}

/** Every client of a plugin connection: its adapter calls and the grpc-js ones. */
function closeClients(c: Connection): void {
  c.runtime.close();
  for (const client of [c.controller, ...c.others]) client.close();
}

/** Where base/grpc.ts connects: the socket's path, or go-plugin's tcp listener's 127.0.0.1:PORT. */
function addressOf(h: Handshake): NetConnectOpts {
  if (h.network === 'unix') return { path: h.address };
  const colon = h.address.lastIndexOf(':');
  return { host: h.address.slice(0, colon).replace(/^\[|\]$/g, ''), port: Number(h.address.slice(colon + 1)) };
}

function dialTarget(h: Handshake): string {
  // go-plugin's tcp listeners print 127.0.0.1:PORT; grpc-js wants a dns target for those.
  return h.network === 'unix' ? `unix://${h.address}` : `dns:${h.address}`;
}
