/**
 * Records what the lab's real daemons answer to the requests the adapters make, into
 * fixtures/<runtime>/<scenario>.json, for the unit tests' replay servers. Run with the lab up:
 *   npm run build && node dist/test/lab/record-fixtures.js [docker|podman|lxd|lxc-classic|containerd ...]
 * HTTP APIs are recorded through a proxy in front of the real socket, so the paths are exactly those
 * the client libraries send; containerd's gRPC answers through a recording client.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import '../../adapters';
import { ContainerdClient } from '../../adapters/containerd/client';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import type { GrpcExchange } from '../support/grpc-replay';
import { FIXTURES, type Exchange } from '../support/replay';
import { toolStandIns } from '../support/tools';

const sh = (cmd: string, args: string[]) => execFileSync(cmd, args, { encoding: 'utf8' }).trim();

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
        exchanges.push({ method: req.method!, path: req.url!.replace(/^\/v[0-9.]+\/(?!libpod)/, '/'), status: up.statusCode!,
          contentType: up.headers['content-type'], headers: pick(up.headers, ['libpod-api-version']), body });
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

function save(runtime: string, scenario: string, from: string, exchanges: unknown[]): void {
  mkdirSync(join(FIXTURES, runtime), { recursive: true });
  writeFileSync(join(FIXTURES, runtime, `${scenario}.json`), JSON.stringify({ recordedFrom: from, exchanges }, null, 2) + '\n');
  process.stdout.write(`recorded ${runtime}/${scenario}: ${exchanges.length} exchanges\n`);
}

type RecordScenario = (scenario: string, fn: () => Promise<unknown>) => Promise<void>;

/** Saves, per scenario, what `take` holds after the scenario's calls; `take` also empties it. */
function recorder(runtime: string, from: string, take: () => unknown[]): RecordScenario {
  return async (scenario, fn) => {
    take();
    await fn().catch(() => undefined);
    save(runtime, scenario, from, take());
  };
}

/** Containers created (never started) until two IDs share a first character; returns the prefix and a cleanup. */
function ambiguousPrefix(tool: 'docker' | 'podman'): { prefix: string; cleanup: () => void } {
  const made: string[] = [];
  const shared = () => {
    const first = sh(tool, ['ps', '-aq', '--no-trunc']).split('\n').filter(Boolean).map((i) => i[0]);
    return first.find((c, i) => first.indexOf(c) !== i);
  };
  while (!shared() && made.length < 17) made.push(sh(tool, ['create', '--label', 'scope-lab=1', 'scope-lab-busybox', '/bin/true']));
  return { prefix: shared()!, cleanup: () => { if (made.length) sh(tool, ['rm', ...made]); } };
}

async function recordDockerApi(runtime: 'docker' | 'podman', real: string, container: string, stopped: string): Promise<void> {
  const proxy = await recordingProxy(real);
  const adapter = buildBuiltin(runtime, {}, { env: { [runtime === 'docker' ? 'DOCKER_HOST' : 'CONTAINER_HOST']: `unix://${proxy.socketPath}` } }).adapter;
  const record = recorder(runtime, `${runtime} ${sh(runtime, ['version', '-f', '{{.Server.Version}}'])} (lab)`, proxy.take);
  const id = sh(runtime, ['inspect', '-f', '{{.Id}}', container]);
  const amb = ambiguousPrefix(runtime);
  try {
    await record('probe', () => adapter.probe());
    await record('list', () => adapter.list());
    await record('resolve-name', () => adapter.resolve(container));
    await record('resolve-full-id', () => adapter.resolve(id));
    await record('resolve-prefix', () => adapter.resolve(id.slice(0, 6)));
    await record('resolve-ambiguous', () => adapter.resolve(amb.prefix));
    await record('resolve-unknown', () => adapter.resolve('no-such-container'));
    await record('resolve-stopped', () => adapter.resolve(stopped));
  } finally {
    amb.cleanup();
    proxy.close();
  }
}

async function recordLxd(): Promise<void> {
  const proxy = await recordingProxy('/var/lib/lxd/unix.socket');
  const adapter = buildBuiltin('lxc', { lxcpath: '/nonexistent-lxcpath' }, { env: { LXD_SOCKET: proxy.socketPath } }).adapter;
  try {
    await recordLxcScenarios(adapter, 'lab-lxd', recorder('lxd', `lxd ${sh('lxd', ['--version'])} (lab)`, proxy.take));
  } finally {
    proxy.close();
  }
}

/** Classic LXC's API is its tools: each call of lxc-ls and lxc-info is recorded by tool-replay. */
async function recordClassicLxc(): Promise<void> {
  const tools = toolStandIns(['lxc-ls', 'lxc-info']);
  const file = join(tools.dir, 'exchanges.json');
  const env = { ...process.env, PATH: tools.dir, SCOPE_TOOL_RECORD: file, SCOPE_TOOL_REAL_PATH: process.env.PATH };
  // An empty host root: no LXD socket, so only the classic tools answer.
  const adapter = buildBuiltin('lxc', { lxcpath: '/var/lib/lxc' }, { env, hostRoot: mkdtempSync(join(tmpdir(), 'no-lxd-')) }).adapter;
  const take = () => {
    const exchanges = existsSync(file) ? JSON.parse(readFileSync(file, 'utf8')) : [];
    rmSync(file, { force: true });
    return exchanges;
  };
  try {
    await recordLxcScenarios(adapter, 'lab-lxc', recorder('lxc-classic', `lxc ${sh('lxc-info', ['--version'])} (lab)`, take));
  } finally {
    tools.remove();
  }
}

/** The scenarios both kinds of LXC are recorded in: NAME runs, NAME-stopped is stopped. */
async function recordLxcScenarios(adapter: ContainerRuntime, name: string, record: RecordScenario): Promise<void> {
  await record('probe', () => adapter.probe());
  await record('list', () => adapter.list());
  await record('resolve-name', () => adapter.resolve(name));
  await record('resolve-unknown', () => adapter.resolve('no-such-container'));
  await record('resolve-stopped', () => adapter.resolve(`${name}-stopped`));
}

/** A containerd client that keeps every call with its answer. */
class RecordingClient extends ContainerdClient {
  exchanges: GrpcExchange[] = [];
  protected override async call<T>(service: GrpcExchange['service'], method: string, namespace: string, req: object): Promise<T> {
    try {
      const response = await super.call<T>(service, method, namespace, req);
      this.exchanges.push({ service, method, namespace, request: req, response });
      return response;
    } catch (err) {
      const cause = (err as { cause?: { code: number; details: string } }).cause;
      this.exchanges.push({ service, method, namespace, request: req, error: { code: cause!.code, details: cause!.details } });
      throw err;
    }
  }
}

async function recordContainerd(): Promise<void> {
  const client = new RecordingClient({ CONTAINERD_ADDRESS: '/run/containerd/containerd.sock' });
  const [ctr, nerdctl] = ['ctr', 'nerdctl'].map((id) => buildBuiltin(id, { namespace: 'default' },
    { register: (c) => c.register(ContainerdClient, { useValue: client }) }).adapter);
  const nerdId = sh('ctr', ['-n', 'default', 'containers', 'ls', '-q', 'labels."nerdctl/name"==lab-nerd']);
  const take = () => {
    const exchanges = client.exchanges;
    client.exchanges = [];
    return exchanges;
  };
  const record = recorder('containerd', `containerd ${sh('containerd', ['--version']).split(' ')[2]} (lab)`, take);
  await record('probe', () => ctr.probe());
  await record('ctr-list', () => ctr.list());
  await record('ctr-resolve-id', () => ctr.resolve('lab-ctr'));
  await record('ctr-resolve-prefix', () => ctr.resolve(nerdId.slice(0, 10)));
  await record('ctr-resolve-unknown', () => ctr.resolve('no-such-container'));
  await record('ctr-resolve-stopped', () => ctr.resolve('lab-ctr-stopped'));
  await record('nerdctl-list', () => nerdctl.list());
  await record('nerdctl-resolve-name', () => nerdctl.resolve('lab-nerd'));
  await record('nerdctl-resolve-prefix', () => nerdctl.resolve(nerdId.slice(0, 8)));
  await record('nerdctl-resolve-unknown', () => nerdctl.resolve('no-such-container'));
  client.dispose();
}

const RECORDERS: Record<string, () => Promise<void>> = {
  docker: () => recordDockerApi('docker', '/var/run/docker.sock', 'lab-web', 'lab-stopped'),
  podman: () => recordDockerApi('podman', '/run/podman/podman.sock', 'lab-pod-userns', 'lab-pod-stopped'),
  lxd: recordLxd,
  'lxc-classic': recordClassicLxc,
  containerd: recordContainerd,
};

async function main(): Promise<void> {
  const which = process.argv.slice(2);
  for (const name of which.length ? which : Object.keys(RECORDERS)) await RECORDERS[name]();
}

main().catch((err) => {
  process.stderr.write(`${err.stack ?? err}\n`);
  process.exitCode = 1;
});
