import { expect } from 'chai';
import { chownSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { CriContainer } from '../../adapters/cri/client';
import { current, pidOf, workloads } from '../../adapters/cri/cri';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { CRI, GrpcReplayServer } from '../support/grpc-replay';
import { agree, callAdapter, recordings, titleOf, type Recording } from '../support/recorded';
import { tempDir } from '../support/tmp';

/**
 * The cri adapter (real grpc-js client, CRI's own field numbers) on answers recorded from the lab's
 * containerd, whose pods were made through CRI as kubelet makes them. The host root holds a /proc
 * entry for each PID the runtime's own tool saw running: the adapter checks that a reported PID lives.
 */
async function withCri<T>(r: Recording, fn: (a: ContainerRuntime, server: GrpcReplayServer) => Promise<T>,
  { env = {}, hostRoot = hostWith(r) }: { env?: Record<string, string>; hostRoot?: string } = {}): Promise<T> {
  // The adapter asks Version once before its first call: the probe's recording answers it. The endpoint
  // names the socket as the host does: the adapter finds it under the host root.
  mkdirSync(join(hostRoot, 'run'), { recursive: true });
  const server = await new GrpcReplayServer([...r.exchanges, ...recorded('probe.json').exchanges], CRI,
    join(hostRoot, 'run', 'cri.sock')).start();
  const built = buildBuiltin('cri', { endpoint: 'unix:///run/cri.sock' }, { env, hostRoot });
  try {
    return await fn(built.adapter, server);
  } finally {
    await built.close();
    await server.stop();
  }
}

/** A host root whose /proc has the processes `r`'s own answer saw running. */
function hostWith(r: Recording): string {
  const root = tempDir('cri-host-');
  const own = r.own as { container?: { pid: number }; containers?: { pid: number }[] };
  for (const c of [...(own.containers ?? []), ...(own.container ? [own.container] : [])]) {
    if (c.pid) mkdirSync(join(root, 'proc', String(c.pid)), { recursive: true });
  }
  return root;
}

const recorded = (file: string) => recordings('cri').find((r) => r.file === file)!;

describe('cri adapter on recorded answers', () => {
  for (const r of recordings('cri')) {
    it(titleOf(r), () => withCri(r, async (a, server) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      expect(server.unmatched, 'calls never recorded').to.deep.equal([]);
      if (r.call.method === 'probe') expect((out.value as ProbeResult).endpoint).to.contain('"endpoint" option');
      if (r.call.method === 'list') {
        for (const c of out.value as Container[]) {
          // Kubernetes names from kubelet's labels, and the pod's UID among the labels.
          expect(c.name.split('/'), c.name).to.have.length(3);
          expect(c.labels['io.kubernetes.pod.uid'], c.name).to.be.a('string');
        }
      }
    }));
  }

  it('a PID the runtime reports but this host does not run is E_NOT_RUNNING, saying so', () =>
    withCri(recorded('resolve-name.json'), async (a) => {
      const err = await a.resolve(recorded('resolve-name.json').call.ref!).catch((e) => e);
      expect(err.code).to.equal('E_NOT_RUNNING');
      expect(err.message).to.contain('no such process runs here');
    }, { hostRoot: tempDir('cri-empty-host-') }));

  it('a pod of two containers named without the container is E_AMBIGUOUS naming both', () =>
    withCri(recorded('resolve-pod-ambiguous.json'), async (a) => {
      const err = await a.resolve(recorded('resolve-pod-ambiguous.json').call.ref!).catch((e) => e);
      expect(err.code).to.equal('E_AMBIGUOUS');
      expect(err.message).to.contain('scope-lab/lab-cri/web').and.to.contain('scope-lab/lab-cri/sidecar');
    }));
});

describe('cri adapter: the PID in a verbose status', () => {
  const status = (info: Record<string, string>) => ({ status: null, info });
  it('reads info.info (containerd, CRI-O), else the older info.pid; 0, garbage and negatives are no PID', () => {
    expect(pidOf(status({ info: JSON.stringify({ pid: 4321, sandboxID: 'x' }) }))).to.equal(4321);
    expect(pidOf(status({ pid: '77' }))).to.equal(77);
    expect(pidOf(status({ info: JSON.stringify({ pid: 0 }) }))).to.equal(0);
    expect(pidOf(status({ info: '{not json', pid: '12' }))).to.equal(12);
    expect(pidOf(status({ info: JSON.stringify({ pid: -5 }) }))).to.equal(0);
    expect(pidOf(status({ info: JSON.stringify({ pid: '99' }) }))).to.equal(0);
    expect(pidOf(status({ pid: '1e3' }))).to.equal(0);
    expect(pidOf(status({}))).to.equal(0);
  });
});

describe('cri adapter: where it finds the runtime', () => {
  const probe = () => recorded('probe.json');

  it('CONTAINER_RUNTIME_ENDPOINT names the socket when the entry gives none; runtimes says so', async () => {
    const server = await new GrpcReplayServer(probe().exchanges, CRI).start();
    const built = buildBuiltin('cri', {}, { env: { CONTAINER_RUNTIME_ENDPOINT: `unix://${server.socketPath}` } });
    try {
      const p = await built.adapter.probe();
      expect(p).to.deep.include({ available: true,
        endpoint: `unix://${server.socketPath} (CONTAINER_RUNTIME_ENDPOINT)` });
    } finally {
      await built.close();
      await server.stop();
    }
  });

  it('without either, the first usual socket that answers CRI, under the host root (k3s\'s here)', async () => {
    const root = tempDir('cri-usual-');
    const at = (path: string) => {
      mkdirSync(join(root, path, '..'), { recursive: true });
      return join(root, path);
    };
    // Before k3s's: a daemon that answers no CRI call (a containerd without the CRI plugin) at microk8s's
    // socket, and a socket a user owns at k0s's; both are passed over, and said.
    const noCri = await new GrpcReplayServer([], CRI, at('var/snap/microk8s/common/run/containerd.sock')).start();
    const users = await new GrpcReplayServer(probe().exchanges, CRI, at('run/k0s/containerd.sock')).start();
    chownSync(users.socketPath, 1000, 1000);
    const k3s = await new GrpcReplayServer(probe().exchanges, CRI, at('run/k3s/containerd/containerd.sock')).start();
    const built = buildBuiltin('cri', {}, { hostRoot: root });
    try {
      const p = await built.adapter.probe();
      expect(p.available, p.reason).to.equal(true);
      expect(p.endpoint).to.contain('/run/k3s/containerd/containerd.sock').and.to.contain('k3s');
      await Promise.all([k3s.stop()]);
      const none = buildBuiltin('cri', {}, { hostRoot: root });
      const q = await none.adapter.probe();
      expect(q.available).to.equal(false);
      expect(q.reason).to.contain('k0s/containerd.sock: not a socket owned by root').and.to.contain('microk8s');
      await none.close();
    } finally {
      await built.close();
      await Promise.all([noCri.stop(), users.stop()]);
    }
  });

  it('no socket anywhere is unavailable, naming where it looked and the variable to set', async () => {
    const built = buildBuiltin('cri', {}, { hostRoot: tempDir('cri-none-') });
    const p = await built.adapter.probe();
    expect(p.available).to.equal(false);
    expect(p.reason).to.contain('/run/k0s/containerd.sock').and.to.contain('CONTAINER_RUNTIME_ENDPOINT');
  });

  it('a bad "endpoint" option is E_PLUGIN_CONFIG; a bad variable makes only this runtime unavailable', async () => {
    expect(() => buildBuiltin('cri', { endpoint: 'tcp://10.0.0.1:1234' })).to.throw(/option "endpoint"/);
    const built = buildBuiltin('cri', {}, { env: { CONTAINER_RUNTIME_ENDPOINT: 'npipe:////./pipe/x' } });
    const p = await built.adapter.probe();
    expect([p.available, p.reason]).to.satisfy(([ok, why]: [boolean, string]) =>
      !ok && why.includes('CONTAINER_RUNTIME_ENDPOINT'));
  });
});

describe('cri adapter: which instance a name means', () => {
  /** A container of the recorded list, as the runtime answered it, with `changes`. */
  const recordedContainer = (changes: Partial<CriContainer>): CriContainer => {
    const answer = recorded('list.json').exchanges.find((e) => e.method === 'ListContainers').response;
    const web = answer.containers.find((c: CriContainer) => c.labels['io.kubernetes.container.name'] === 'web');
    return { ...web, ...changes };
  };

  it('takes the running instance of a restarted container, else the newest; two running are both kept', () => {
    const old = recordedContainer({ id: 'a'.repeat(64), state: 'CONTAINER_EXITED', createdAt: 1 });
    const now = recordedContainer({ id: 'b'.repeat(64), state: 'CONTAINER_RUNNING', createdAt: 0 });
    const newer = recordedContainer({ id: 'c'.repeat(64), state: 'CONTAINER_EXITED', createdAt: 2 });
    expect(current([old, now]).map((c) => c.id)).to.deep.equal([now.id]);
    expect(current([old, newer]).map((c) => c.id)).to.deep.equal([newer.id]);
    const again = recordedContainer({ id: 'd'.repeat(64), state: 'CONTAINER_RUNNING', createdAt: 3 });
    expect(current([now, again]).map((c) => c.id)).to.deep.equal([now.id, again.id]);
  });

  it('never counts a pod\'s sandbox among its containers, whichever way the runtime marks it', () => {
    const web = recordedContainer({});
    const sandbox = recordedContainer({ id: 'e'.repeat(64),
      annotations: { 'io.kubernetes.cri.container-type': 'sandbox' } });
    const dockers = recordedContainer({ id: 'f'.repeat(64),
      labels: { ...web.labels, 'io.kubernetes.docker.type': 'podsandbox' } });
    expect(workloads([web, sandbox, dockers]).map((c) => c.id)).to.deep.equal([web.id]);
  });

  it('asked with --runtime auto, a bare name is no pod of namespace default (anyone may make one there)', () =>
    withCri(recorded('resolve-pod-in-default.json'), async (a) => {
      const ref = recorded('resolve-pod-in-default.json').call.ref!;
      expect((await a.resolve(ref, { auto: true }).catch((e) => e)).code).to.equal('E_NOT_FOUND');
      expect((await a.resolve(ref)).name).to.equal(`default/${ref}/solo`);
    }));
});

describe('cri adapter: large answers', () => {
  it('reads an answer over grpc-js\'s 4 MiB default, as kubelet does (a pod creator\'s annotations can be large)',
    () => {
    // The recorded list, with one container carrying 5 MiB of annotations (a preStop hook kubelet copies there).
    const r = recorded('list.json');
    const exchanges = r.exchanges.map((e) => (e.method !== 'ListContainers' ? e : {
      ...e, response: { containers: e.response.containers.map((c: CriContainer, i: number) => (i ? c : {
        ...c, annotations: { ...c.annotations, 'io.kubernetes.container.preStopHandler': 'x'.repeat(5 << 20) },
      })) },
    }));
    return withCri({ ...r, exchanges }, async (a) => {
      expect((await a.list()).length).to.equal(r.own && 'containers' in r.own ? r.own.containers.length : -1);
    });
  });
});
