/**
 * Records what the lab's real runtimes answer to the calls the adapters make, into
 * fixtures/<runtime>/<scenario>.json, for the unit tests' replays (test/support/recorded.ts says
 * what a file holds). Run with the lab up:
 *   npm run build && node dist/test/lab/record-fixtures.js [docker|podman|lxd|lxc-classic|containerd|cri ...]
 * HTTP APIs are recorded through a proxy in front of the real socket, so the paths are exactly those
 * the client libraries send; containerd's gRPC answers through a recording client; classic LXC's
 * tools through stand-ins. Beside each call, the runtime's own tool is asked the same question
 * (own.ts), so that the tests hold the adapter to an answer it had no part in. The containers are
 * the lab file's (test/lab/matrix.json); the lxc adapter's questions to liblxc's side of the host
 * are recorded as its LxcHost answered them (test/support/lxc-host-replay.ts). Side effect:
 * docker's and podman's ambiguous prefix needs two IDs that begin alike, so containers are created
 * (never started) for it, and removed after.
 */
import 'reflect-metadata';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../adapters';
import type { DependencyContainer } from 'tsyringe';
import { ContainerdClient } from '../../adapters/containerd/client';
import { LxcHost } from '../../adapters/lxc/monitor';
import type { ContainerRuntime } from '../../core/runtime';
import { HostRoot } from '../../native/host-root';
import { buildBuiltin } from '../../testing/harness';
import * as grpc from '@grpc/grpc-js';
import { CRI, daemonServices, type Daemon, type GrpcExchange } from '../support/grpc-replay';
import { labRow } from '../support/lab';
import { RecordingLxcHost } from '../support/lxc-host-replay';
import { callAdapter, type OwnAnswer, type RecordedCall } from '../support/recorded';
import { FIXTURES, type Exchange } from '../support/replay';
import { toolStandIns } from '../support/tools';
import { containerdOwn, criOwn, dockerOwn, lxcClassicOwn, lxdOwn, sh, type Own } from './own';

/** A unix-socket HTTP proxy in front of `real` that keeps every exchange. */
async function recordingProxy(real: string) {
  const dir = mkdtempSync(join(tmpdir(), 'record-'));
  const socketPath = join(dir, 'api.sock');
  let exchanges: Exchange[] = [];
  const server = createServer((req, res) => {
    const upstream = request({ socketPath: real, method: req.method, path: req.url, headers: req.headers }, (up) => {
      const chunks: Buffer[] = [];
      up.on('data', (c: Buffer) => chunks.push(c));
      up.on('end', () => {
        const body = Buffer.concat(chunks).toString('utf8');
        const path = req.url!.replace(/^\/v[0-9.]+\/(?!libpod)/, '/');
        exchanges.push({ method: req.method!, path, status: up.statusCode!, contentType: up.headers['content-type'],
          headers: pick(up.headers, ['libpod-api-version']), body });
        res.writeHead(up.statusCode!, up.headers).end(body);
      });
    });
    req.pipe(upstream);
  });
  await new Promise<void>((r) => server.listen(socketPath, r));
  return {
    socketPath,
    take: () => { const e = exchanges; exchanges = []; return e; },
    close: () => { server.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

function pick(headers: Record<string, unknown>, names: string[]): Record<string, string> | undefined {
  const out = Object.fromEntries(names.filter((n) => headers[n]).map((n) => [n, String(headers[n])]));
  return Object.keys(out).length ? out : undefined;
}

/** Where one runtime's recordings go, and what holds the exchanges since the last take. */
interface Sink {
  dir: string;
  from: string;
  take: () => unknown[];
}

/** Makes `call` on `adapter`, asks the runtime's own tool, and saves both with the exchanges. */
async function record(to: Sink, scenario: string, adapter: ContainerRuntime, call: RecordedCall, own: () => OwnAnswer) {
  to.take();
  await callAdapter(adapter, call);
  const exchanges = to.take();
  const file = join(FIXTURES, to.dir, `${scenario}.json`);
  mkdirSync(join(FIXTURES, to.dir), { recursive: true });
  writeFileSync(file, JSON.stringify({ recordedFrom: to.from, call, own: own(), exchanges }, null, 2) + '\n');
  process.stdout.write(`recorded ${to.dir}/${scenario}: ${exchanges.length} exchanges\n`);
}

/**
 * The scenarios every runtime is recorded in, on a lab row's running and stopped containers, in
 * files named `prefix`-scenario (containerd's directory holds ctr's and nerdctl's); the probe's
 * only with `probe`.
 */
async function recordBasics(to: Sink, adapter: ContainerRuntime, id: string, own: Own, running: string, stopped: string,
  { prefix = '', probe = true } = {}) {
  const call = (method: RecordedCall['method'], ref?: string): RecordedCall => ({ adapter: id, method, ref });
  if (probe) await record(to, 'probe', adapter, call('probe'), own.version);
  await record(to, `${prefix}list`, adapter, call('list'), own.containers);
  await record(to, `${prefix}resolve-name`, adapter, call('resolve', running), () => own.resolve(running));
  const unknown = 'no-such-container';
  await record(to, `${prefix}resolve-unknown`, adapter, call('resolve', unknown), () => own.resolve(unknown));
  await record(to, `${prefix}resolve-stopped`, adapter, call('resolve', stopped), () => own.resolve(stopped));
}

/** Containers created (never started) until two IDs share a first character; returns the prefix and a cleanup. */
function ambiguousPrefix(tool: 'docker' | 'podman'): { prefix: string; cleanup: () => void } {
  const made: string[] = [];
  const shared = () => {
    const first = sh(tool, ['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean).map((i) => i[0]);
    return first.find((c, i) => first.indexOf(c) !== i);
  };
  const create = ['create', '--label', 'scope-lab=1', 'scope-lab-busybox', '/bin/true'];
  while (!shared() && made.length < 17) made.push(sh(tool, create));
  return { prefix: shared()!, cleanup: () => { if (made.length) sh(tool, ['rm', ...made]); } };
}

async function recordDockerApi(runtime: 'docker' | 'podman', real: string, label: string): Promise<void> {
  const row = labRow(label);
  const proxy = await recordingProxy(real);
  const variable = runtime === 'docker' ? 'DOCKER_HOST' : 'CONTAINER_HOST';
  const adapter = buildBuiltin(runtime, {}, { env: { [variable]: `unix://${proxy.socketPath}` } }).adapter;
  const version = sh(runtime, ['version', '-f', '{{.Server.Version}}']);
  const to = { dir: runtime, from: `${runtime} ${version} (lab)`, take: proxy.take };
  const own = dockerOwn(runtime);
  const resolve = (scenario: string, ref: string) =>
    record(to, scenario, adapter, { adapter: runtime, method: 'resolve', ref }, () => own.resolve(ref));
  const id = sh(runtime, ['container', 'inspect', '-f', '{{.Id}}', row.running]);
  try {
    await recordBasics(to, adapter, runtime, own, row.running, row.stopped!);
    await resolve('resolve-full-id', id);
    await resolve('resolve-prefix', id.slice(0, 6));
    const amb = ambiguousPrefix(runtime);
    try {
      await resolve('resolve-ambiguous', amb.prefix);
    } finally {
      amb.cleanup();
    }
  } finally {
    proxy.close();
  }
}

/**
 * liblxc's side of the host, recorded as the real LxcHost concludes it (the monitors' answers once
 * the kernel vouched for them), with the host's real root whatever root the adapter is given.
 */
function recordingLxcHost(): { host: RecordingLxcHost; register: (c: DependencyContainer) => void } {
  const host = new RecordingLxcHost(new HostRoot(), { uid: process.getuid!(), gid: process.getgid!() });
  return { host, register: (c) => c.register(LxcHost, { useValue: host }) };
}

async function recordLxd(): Promise<void> {
  const row = labRow('lxc (LXD)');
  const proxy = await recordingProxy('/var/lib/lxd/unix.socket');
  // LXD_DIR: where the daemon keeps its containers (their command sockets), the proxy being elsewhere.
  const env = { LXD_SOCKET: proxy.socketPath, LXD_DIR: '/var/lib/lxd' };
  const { host, register } = recordingLxcHost();
  const adapter = buildBuiltin('lxc', { lxcpath: '/nonexistent-lxcpath' }, { env, register }).adapter;
  try {
    const take = () => [...proxy.take(), ...host.take()];
    const to = { dir: 'lxd', from: `lxd ${sh('lxd', ['--version'])} (lab)`, take };
    await recordBasics(to, adapter, 'lxc', lxdOwn(), row.running, row.stopped!);
  } finally {
    proxy.close();
  }
}

/**
 * Classic LXC's API is its tools and its containers' monitors: each call of lxc-ls and lxc-info is
 * recorded by tool-replay, each question to liblxc's side of the host by a RecordingLxcHost.
 */
async function recordClassicLxc(): Promise<void> {
  const row = labRow('lxc (classic)');
  const tools = toolStandIns(['lxc-ls', 'lxc-info']);
  const file = join(tools.dir, 'exchanges.json');
  const env = { ...process.env, PATH: tools.dir, SCOPE_TOOL_RECORD: file, SCOPE_TOOL_REAL_PATH: process.env.PATH };
  // An empty host root: no LXD socket, so only the classic tools answer.
  const noLxd = mkdtempSync(join(tmpdir(), 'no-lxd-'));
  const { host, register } = recordingLxcHost();
  const adapter = buildBuiltin('lxc', { lxcpath: '/var/lib/lxc' }, { env, hostRoot: noLxd, register }).adapter;
  const take = () => {
    const exchanges = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
    rmSync(file, { force: true });
    return [...exchanges, ...host.take()];
  };
  try {
    const to = { dir: 'lxc-classic', from: `lxc ${sh('lxc-info', ['--version'])} (lab)`, take };
    await recordBasics(to, adapter, 'lxc', lxcClassicOwn('/var/lib/lxc'), row.running, row.stopped!);
  } finally {
    tools.remove();
    rmSync(noLxd, { recursive: true, force: true });
  }
}

/** A containerd client that keeps every call with its answer. */
class RecordingClient extends ContainerdClient {
  exchanges: GrpcExchange[] = [];
  protected override async call<T>(service: 'containers' | 'tasks' | 'namespaces' | 'version', method: string,
    namespace: string, req: object): Promise<T> {
    try {
      const response = await super.call<T>(service, method, namespace, req);
      this.exchanges.push({ service, method, namespace, request: req, response });
      return response;
    } catch (err) {
      const cause = (err as { cause?: { code: number; details: string } }).cause;
      const error = { code: cause!.code, details: cause!.details };
      this.exchanges.push({ service, method, namespace, request: req, error });
      throw err;
    }
  }
}

async function recordContainerd(): Promise<void> {
  const [ctrRow, nerdRow] = [labRow('containerd - ctr'), labRow('containerd - nerdctl (labels made through ctr)')];
  const client = new RecordingClient({ CONTAINERD_ADDRESS: '/run/containerd/containerd.sock' }, new HostRoot());
  const [ctr, nerdctl] = ['ctr', 'nerdctl'].map((id) => buildBuiltin(id, { namespace: 'default' },
    { register: (c) => c.register(ContainerdClient, { useValue: client }) }).adapter);
  const take = () => {
    const exchanges = client.exchanges;
    client.exchanges = [];
    return exchanges;
  };
  const to = { dir: 'containerd', from: `containerd ${sh('containerd', ['--version']).split(' ')[2]} (lab)`, take };
  const [ctrOwn, nerdOwn] = [containerdOwn(false), containerdOwn(true)];
  const nerdId = sh('ctr', ['-n', 'default', 'containers', 'ls', '-q', `labels."nerdctl/name"==${nerdRow.running}`]);
  const resolve = (scenario: string, adapter: ContainerRuntime, own: Own, ref: string) =>
    record(to, scenario, adapter, { adapter: adapter.name, method: 'resolve', ref }, () => own.resolve(ref));
  try {
    await recordBasics(to, ctr, 'ctr', ctrOwn, ctrRow.running, ctrRow.stopped!, { prefix: 'ctr-' });
    // ctr's lab IDs are names, and each begins others (lab-ctr, lab-ctr-stopped): a unique prefix is
    // taken from a hex ID (the nerdctl row's container, which ctr sees too), and lab-ctr's own
    // beginning is ambiguous.
    await resolve('ctr-resolve-prefix', ctr, ctrOwn, nerdId.slice(0, 10));
    await resolve('ctr-resolve-ambiguous', ctr, ctrOwn, ctrRow.running.slice(0, -1));
    const nerdFiles = { prefix: 'nerdctl-', probe: false };
    await recordBasics(to, nerdctl, 'nerdctl', nerdOwn, nerdRow.running, nerdRow.stopped!, nerdFiles);
    await resolve('nerdctl-resolve-prefix', nerdctl, nerdOwn, nerdId.slice(0, 8));
  } finally {
    client.dispose();
  }
}

/**
 * A gRPC server on a socket of its own in front of the daemon at `real`, speaking `daemon`'s protos,
 * that passes every call on and keeps it with its answer: the adapter's real client talks to it
 * unchanged, as the HTTP adapters talk to recordingProxy.
 */
async function grpcRecordingProxy(daemon: Daemon, real: string) {
  const dir = mkdtempSync(join(tmpdir(), 'record-'));
  const socketPath = join(dir, 'daemon.sock');
  const server = new grpc.Server();
  const clients: grpc.Client[] = [];
  let exchanges: GrpcExchange[] = [];
  for (const { key, client: ctor } of daemonServices(daemon)) {
    const upstream = new ctor(`unix://${real}`, grpc.credentials.createInsecure()) as
      grpc.Client & Record<string, Function>;
    clients.push(upstream);
    const handlers: grpc.UntypedServiceImplementation = {};
    for (const method of Object.keys(ctor.service)) {
      handlers[method] = (call: grpc.ServerUnaryCall<any, any>, cb: grpc.sendUnaryData<any>) => {
        upstream[method](call.request, { deadline: Date.now() + 10_000 },
          (err: grpc.ServiceError | null, res: unknown) => {
          const base = { service: key, method, namespace: '', request: call.request };
          exchanges.push(err ? { ...base, error: { code: err.code, details: err.details } }
            : { ...base, response: res });
          cb(err, res);
        });
      };
    }
    server.addService(ctor.service, handlers);
  }
  await new Promise<void>((resolve, reject) => server.bindAsync(`unix://${socketPath}`,
    grpc.ServerCredentials.createInsecure(), (err) => (err ? reject(err) : resolve())));
  return {
    socketPath,
    take: () => { const e = exchanges; exchanges = []; return e; },
    close: () => {
      for (const c of clients) c.close();
      server.forceShutdown();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** Kubernetes pods through CRI, on the lab's containerd (the cri row of the lab file). */
async function recordCri(): Promise<void> {
  const row = labRow('cri (containerd, pods)');
  const proxy = await grpcRecordingProxy(CRI, '/run/containerd/containerd.sock');
  const built = buildBuiltin('cri', { endpoint: `unix://${proxy.socketPath}` });
  const own = criOwn();
  const to = { dir: 'cri', from: `containerd ${sh('containerd', ['--version']).split(' ')[2]} CRI (lab)`,
    take: proxy.take };
  const resolve = (scenario: string, ref: string) =>
    record(to, scenario, built.adapter, { adapter: 'cri', method: 'resolve', ref }, () => own.resolve(ref));
  try {
    await recordBasics(to, built.adapter, 'cri', own, row.running, row.stopped!);
    const [namespace, pod] = row.running.split('/');
    const id = (own.resolve(row.running) as { container: { id: string } }).container.id;
    await resolve('resolve-full-id', id);
    await resolve('resolve-prefix', id.slice(0, 8));
    // A pod of two containers named without the container: which one is the user's to say.
    await resolve('resolve-pod-ambiguous', `${namespace}/${pod}`);
    await resolve('resolve-pod', row.noshell!.split('/').slice(0, 2).join('/'));
    await resolve('resolve-pod-in-default', 'lab-cri-solo');
  } finally {
    await built.close();
    proxy.close();
  }
}

const RECORDERS: Record<string, () => Promise<void>> = {
  docker: () => recordDockerApi('docker', '/var/run/docker.sock', 'docker'),
  // The user-namespaced container: its resolve shows the ID maps podman reads from libpod.
  podman: () => recordDockerApi('podman', '/run/podman/podman.sock', 'podman (user namespace)'),
  lxd: recordLxd,
  'lxc-classic': recordClassicLxc,
  containerd: recordContainerd,
  cri: recordCri,
};

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  for (const name of which.length ? which : Object.keys(RECORDERS)) await RECORDERS[name]();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
