/**
 * What go-plugin's testing.go gives Go authors: `adapter` served over the real plugin protocol in
 * this process, and the client the engine would use, so that a test sees the adapter exactly as
 * the engine sees a plugin built from it (containers through runtime.proto, errors through the
 * status table), without building, starting or handshaking a program.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import { pluginProtos } from '../core/plugin/protos';
import { statusError, WireRuntime } from '../core/plugin/wire-runtime';
import type { ContainerRuntime } from '../core/runtime';
import { pluginServer } from '../sdk/serve';
import type { Built } from './harness';

class InProcessPlugin extends WireRuntime {
  constructor(readonly name: string, private readonly client: grpc.Client & Record<string, Function>,
    private readonly deadlineMs: number, readonly address: string) {
    super();
  }

  protected get endpoint(): string {
    return `plugin in this process at unix://${this.address}`;
  }

  protected call<T>(method: string, req: object): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.client[method](req, { deadline: Date.now() + this.deadlineMs },
        (err: grpc.ServiceError | null, res: T) => (err ? reject(statusError(this.name, err)) : resolve(res)));
    });
  }
}

/** `adapter` behind the plugin protocol; `close()` ends the client, the server and its socket. */
export async function overPlugin(adapter: ContainerRuntime, deadlineMs = 5000): Promise<Built> {
  const { grpc: grpcJs, runtime } = pluginProtos();
  const dir = mkdtempSync(join(tmpdir(), 'scope-plugin-'));
  const address = join(dir, 'plugin.sock');
  const server = pluginServer(adapter, { shutdown: () => server.forceShutdown() });
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix:${address}`,
    grpcJs.ServerCredentials.createInsecure(),
    (err) => (err ? reject(err) : resolve())));
  const client = new runtime(`unix://${address}`,
    grpcJs.credentials.createInsecure()) as grpc.Client & Record<string, Function>;
  return {
    adapter: new InProcessPlugin(adapter.name, client, deadlineMs, address),
    async close() {
      client.close();
      await new Promise<void>((resolve) => server.tryShutdown(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
