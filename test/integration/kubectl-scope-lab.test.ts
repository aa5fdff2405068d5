import { expect } from 'chai';
import { readlinkSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../../base/paths';
import { CLI, cli, json } from '../support/cli';
import { FakeKubeApi, type PodFixture } from '../support/kube-api';
import { KUBECTL, kubeHome, PLUGIN, requireKubectl, runKube } from '../support/kubectl';
import { requireRuntime } from '../support/lab';

/**
 * kubectl scope from end to end but for the exec stream: the lab's CRI pods stand for one node's. The
 * API server (test/support/kube-api.ts) has those pods, with their real UIDs, on node "lab-node", and
 * an agent there; the real kubectl finds them; and where kubectl would exec the engine in the agent,
 * test/support/kubectl-local-exec.sh runs it on this machine, which has the pods. So what the engine
 * prints, and its exit status, come back through kubectl-scope as they would from the agent.
 */
const STAND_IN = join(PACKAGE_ROOT, 'test', 'support', 'kubectl-local-exec.sh');
const NODE = 'lab-node';

interface Listed { name: string; pid: number; state: string; pod?: { namespace: string; name: string; uid: string } }

describe('kubectl scope on the lab\'s CRI pods (the engine run here, where the agent would run it)', function () {
  let api: FakeKubeApi;
  let kube: { home: string; config: string };
  let containers: Listed[];

  before(async function () {
    requireKubectl(this);
    await requireRuntime(this, 'cri');
    containers = json(await cli(['ps', '--runtime', 'cri', '--json'])).containers;
    const pods = new Map<string, PodFixture>();
    for (const c of containers) {
      if (!c.pod) continue;
      const key = `${c.pod.namespace}/${c.pod.name}`;
      const pod = pods.get(key) ?? { namespace: c.pod.namespace, name: c.pod.name, uid: c.pod.uid, node: NODE,
        containers: [] };
      pod.containers!.push(c.name.split('/')[2]);
      pods.set(key, pod);
    }
    const agent = { namespace: 'scope-engine', name: 'agent-lab', node: NODE, containers: ['agent'],
      labels: { 'app.kubernetes.io/name': 'scope-engine-agent' } };
    api = new FakeKubeApi([...pods.values(), agent]);
    kube = kubeHome(await api.start());
  });
  after(() => api?.close());

  const scope = (args: string[]) => runKube(PLUGIN, args, kube, {
    KUBECTL: STAND_IN, REAL_KUBECTL: KUBECTL, ENGINE_NODE: process.execPath, ENGINE_CLI: CLI,
  });
  const web = () => containers.find((c) => c.name === 'scope-lab/lab-cri/web' && c.state === 'running')!;

  it('ps POD: the engine\'s table cut to that pod\'s rows, by its UID (not by a name prefix)', async () => {
    const r = await scope(['ps', 'lab-cri', '-n', 'scope-lab']);
    expect(r.code, r.stderr).to.equal(0);
    const [header, ...rows] = r.stdout.trimEnd().split('\n');
    expect(header).to.match(/^RUNTIME\s+CONTAINER ID\s+NAME\s+.*POD UID$/);
    const want = containers.filter((c) => c.pod?.namespace === 'scope-lab' && c.pod.name === 'lab-cri');
    expect(rows.map((row) => row.split(/\s+/)[2]).sort()).to.deep.equal(want.map((c) => c.name).sort());
    // The filter had something to leave out: another pod whose name begins the same way.
    expect(containers.some((c) => c.pod?.name === 'lab-cri-app'), 'the lab has no lab-cri-app').to.equal(true);
  });

  it('exec runs in the container (its mount namespace) and its output comes back', async () => {
    const r = await scope(['exec', 'lab-cri', '-n', 'scope-lab', '-c', 'web', '--', 'readlink', '/proc/self/ns/mnt']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim()).to.equal(readlinkSync(`/proc/${web().pid}/ns/mnt`));
  });

  it('the command\'s exit status is kubectl scope\'s', async () => {
    const r = await scope(['exec', 'lab-cri', '-n', 'scope-lab', '-c', 'web', '--', 'sh', '-c', 'exit 7']);
    expect(r.code, r.stderr).to.equal(7);
  });

  it('a pod of two running containers without -c: the engine\'s E_AMBIGUOUS (exit 4) comes back', async () => {
    const r = await scope(['exec', 'lab-cri', '-n', 'scope-lab', '--', 'true']);
    expect(r.stderr).to.contain('E_AMBIGUOUS');
    expect(r.code).to.equal(4);
  });
});
