/**
 * A gRPC daemon's answers recorded from the real one (fixtures/containerd/*.json, fixtures/cri/*.json),
 * served by a grpc-js server on a unix socket with the adapter's own .proto files, so unit tests run
 * the real client (encoding, metadata, status codes) without the daemon. A call that was not
 * recorded answers UNIMPLEMENTED and is remembered, so the test fails on it.
 */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import * as grpc from '@grpc/grpc-js';
import * as loader from '@grpc/proto-loader';
import { PACKAGE_ROOT } from '../../base/paths';
import { tempDir } from './tmp';

export interface GrpcExchange {
  /** A key of the daemon's SERVICES: containerd's 'containers', 'tasks', ...; CRI's 'runtime'. */
  service: string;
  method: string;
  /** containerd's namespace metadata ('' for a daemon without it). */
  namespace: string;
  request: unknown;
  response?: unknown;
  error?: { code: number; details: string };
}

/** A gRPC daemon as the replay plays it: its adapter's protos and the services they define. */
export interface Daemon {
  protoDir: string;
  files: string[];
  services: Record<string, string>;
}

export const CONTAINERD: Daemon = {
  protoDir: join(PACKAGE_ROOT, 'adapters', 'containerd', 'proto'),
  files: ['containers.proto', 'tasks.proto', 'namespaces.proto', 'version.proto'],
  services: {
    containers: 'containerd.services.containers.v1.Containers',
    tasks: 'containerd.services.tasks.v1.Tasks',
    namespaces: 'containerd.services.namespaces.v1.Namespaces',
    version: 'containerd.services.version.v1.Version',
  },
};

export const CRI: Daemon = {
  protoDir: join(PACKAGE_ROOT, 'adapters', 'cri', 'proto'),
  files: ['api.proto'],
  services: { runtime: 'runtime.v1.RuntimeService' },
};

/** `daemon`'s services, each under its key, loaded from its adapter's protos as the adapter loads them. */
export function daemonServices(daemon: Daemon): { key: string; client: grpc.ServiceClientConstructor }[] {
  const defs = loader.loadSync(daemon.files,
    { includeDirs: [daemon.protoDir], keepCase: false, longs: Number, enums: String, defaults: true });
  const pkg = grpc.loadPackageDefinition(defs) as any;
  return Object.entries(daemon.services).map(([key, fullName]) => ({
    key, client: fullName.split('.').reduce((o: any, k) => o[k], pkg) as grpc.ServiceClientConstructor,
  }));
}

/** Requests as the client sent them and as the server decodes them (with defaults) compare equal. */
function sameRequest(recorded: unknown, incoming: unknown): boolean {
  const meaningful = (o: unknown) => JSON.stringify(Object.entries((o ?? {}) as Record<string, unknown>)
    .filter(([, v]) => !(v === '' || v === 0 || v === false || (Array.isArray(v) && !v.length)))
    .sort(([a], [b]) => a.localeCompare(b)));
  return meaningful(recorded) === meaningful(incoming);
}

export class GrpcReplayServer {
  readonly unmatched: string[] = [];
  socketPath = '';
  private server = new grpc.Server();
  private dir = '';

  /** `at`: the socket's path (its directory must exist); default one in a directory of its own. */
  constructor(private readonly exchanges: GrpcExchange[], private readonly daemon: Daemon = CONTAINERD,
    private readonly at?: string) {}

  async start(): Promise<this> {
    for (const { key, client } of daemonServices(this.daemon)) {
      const svc = client.service;
      const handlers: grpc.UntypedServiceImplementation = {};
      for (const method of Object.keys(svc)) {
        handlers[method] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
          const ns = String(call.metadata.get('containerd-namespace')[0] ?? '');
          const hit = this.exchanges.find((e) => e.service === key && e.method === method && e.namespace === ns &&
            sameRequest(e.request, call.request));
          if (!hit) {
            this.unmatched.push(`${key}.${method} ${ns} ${JSON.stringify(call.request)}`);
            return cb({ code: grpc.status.UNIMPLEMENTED, details: 'not recorded' });
          }
          if (hit.error) return cb({ code: hit.error.code, details: hit.error.details });
          cb(null, hit.response);
        };
      }
      this.server.addService(svc, handlers);
    }
    this.dir = this.at ? '' : tempDir('grpc-replay-');
    this.socketPath = this.at ?? join(this.dir, 'daemon.sock');
    await new Promise<void>((resolve, reject) => this.server.bindAsync(`unix://${this.socketPath}`,
      grpc.ServerCredentials.createInsecure(),
      (err) => (err ? reject(err) : resolve())));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.tryShutdown(() => resolve()));
    rmSync(this.dir || this.socketPath, { recursive: true, force: true });
  }
}
