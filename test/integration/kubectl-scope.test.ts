import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdirSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { EXEC_REFUSED, execOf, FakeKubeApi, type PodFixture, type Recorded } from '../support/kube-api';
import { KUBECTL, kubeHome, PLUGIN, requireKubectl, runKube } from '../support/kubectl';
import { tempDir } from '../support/tmp';

/**
 * kubectl-scope's routing, through a real kubectl (Debian's 1.20) talking to a local API server that
 * answers from the cluster below and records what was asked: the pod's node, the agent pod on that
 * node, and the exec kubectl asks the API for (which the server refuses: no stream is played here).
 */
const AGENT = { 'app.kubernetes.io/name': 'scope-engine-agent' };
const agent = (name: string, node: string, more: Partial<PodFixture> = {}): PodFixture =>
  ({ namespace: 'scope-engine', name, node, labels: AGENT, containers: ['agent'], ...more });

const CLUSTER: PodFixture[] = [
  // Listed before the agents: a pod in the agents' namespace without their label, on node-b.
  { namespace: 'scope-engine', name: 'not-an-agent', node: 'node-b', labels: { app: 'other' } },
  // The agents' label in another namespace (SCOPE_AGENT_NAMESPACE picks it).
  { namespace: 'kube-system', name: 'other-agent-b', node: 'node-b', labels: AGENT, containers: ['agent'] },
  agent('agent-a', 'node-a'),
  agent('agent-b', 'node-b'),
  agent('agent-d', 'node-d', { phase: 'Pending' }),
  // A rolling update: the old agent, still running but being deleted, is listed first.
  agent('agent-e-old', 'node-e', { deleting: true }),
  agent('agent-e-new', 'node-e'),
  { namespace: 'shop', name: 'web-1', node: 'node-b', containers: ['nginx', 'sidecar'] },
  { namespace: 'other', name: 'web-1', node: 'node-a' },
  { namespace: 'shop', name: 'annotated', node: 'node-a', containers: ['side', 'main'],
    annotations: { 'kubectl.kubernetes.io/default-container': 'main' } },
  { namespace: 'shop', name: 'pending', phase: 'Pending' },
  { namespace: 'shop', name: 'lonely', node: 'node-c' },
  { namespace: 'shop', name: 'waiting', node: 'node-d' },
  { namespace: 'shop', name: 'rolling', node: 'node-e' },
  // What an API server should never say: a node name that would extend the agents' field selector.
  { namespace: 'shop', name: 'odd', node: 'node-a,metadata.name=agent-b' },
];

describe('kubectl scope: routing through kubectl 1.20 to the agent on the pod\'s node', function () {
  const api = new FakeKubeApi(CLUSTER);
  let kube: { home: string; config: string };

  before(async function () {
    requireKubectl(this);
    kube = kubeHome(await api.start());
  });
  after(() => api.close());
  beforeEach(() => {
    api.requests.length = 0;
  });

  const scope = (args: string[], env: Record<string, string | undefined> = {}) =>
    runKube(PLUGIN, args, kube, env);

  /** The one exec the run asked the API for, and the plugin's exit: kubectl's, on the refused exec. */
  async function routed(args: string[], env: Record<string, string | undefined> = {}) {
    const r = await scope(args, env);
    expect(r.stderr, 'kubectl reached the exec and printed its refusal').to.contain(EXEC_REFUSED);
    expect(r.code).to.equal(1);
    const execs = api.calls().filter((c) => c.method === 'POST');
    expect(execs).to.have.length(1);
    return execOf(execs[0]);
  }
  const listed = (): Recorded[] => api.calls().filter((c) => c.path === '/api/v1/namespaces/scope-engine/pods');

  it('exec runs the engine in the agent on the pod\'s node, on NS/POD/CONTAINER, stdin open', async () => {
    const e = await routed(['exec', 'web-1', '-n', 'shop', '-c', 'nginx', '--', 'cat', '/etc/hostname']);
    expect(e).to.deep.equal({
      namespace: 'scope-engine', pod: 'agent-b', container: 'agent', stdin: true, tty: false,
      command: ['scope-engine', 'exec', '-i', '--runtime', 'cri', 'shop/web-1/nginx', '--', 'cat', '/etc/hostname'],
    });
    expect(api.calls()[0].path).to.equal('/api/v1/namespaces/shop/pods/web-1');
    const list = listed();
    expect(list).to.have.length(1);
    expect(list[0].query.get('labelSelector')).to.equal('app.kubernetes.io/name=scope-engine-agent');
    expect(list[0].query.get('fieldSelector')).to.equal('spec.nodeName=node-b');
  });

  it('-n picks the pod of that namespace, on its own node; without -c the ref is NS/POD', async () => {
    const e = await routed(['exec', '--namespace=other', 'web-1', '--', 'id']);
    expect(e.pod).to.equal('agent-a');
    expect(e.command).to.deep.equal(['scope-engine', 'exec', '-i', '--runtime', 'cri', 'other/web-1', '--', 'id']);
  });

  it('without -n, the namespace of the current context; --context and --kubeconfig reach kubectl', async () => {
    expect((await routed(['exec', 'web-1', '--', 'id'])).command).to.include('shop/web-1');
    api.requests.length = 0;
    const e = await routed(['exec', 'web-1', '--context', 'other', '--kubeconfig', kube.config, '--', 'id'],
      { KUBECONFIG: undefined });
    expect(e.pod).to.equal('agent-a');
    expect(e.command).to.include('other/web-1');
  });

  it('the pod\'s default-container annotation names the container, as for kubectl exec; -c wins', async () => {
    expect((await routed(['stop', 'annotated'])).command)
      .to.deep.equal(['scope-engine', 'stop', '--runtime', 'cri', 'shop/annotated/main']);
    api.requests.length = 0;
    expect((await routed(['stop', 'annotated', '-c', 'side', '--all', '--keep', '--json'])).command)
      .to.deep.equal(['scope-engine', 'stop', '--runtime', 'cri', '--all', '--keep', '--json', 'shop/annotated/side']);
  });

  it('run: --detach reaches the engine, no stdin without a terminal; after --, the loader command', async () => {
    const e = await routed(['run', 'web-1', '-c', 'nginx', '-d']);
    expect(e).to.deep.include({ pod: 'agent-b', stdin: false, tty: false });
    expect(e.command).to.deep.equal(['scope-engine', 'run', '--runtime', 'cri', '--detach', 'shop/web-1/nginx']);
    api.requests.length = 0;
    expect((await routed(['run', 'web-1', '-c', 'nginx', '--', '{install}/scope-probe', '--pid', '{pid}'])).command)
      .to.deep.equal(['scope-engine', 'run', '--runtime', 'cri', 'shop/web-1/nginx', '--', '{install}/scope-probe',
        '--pid', '{pid}']);
  });

  it('what follows -- reaches the engine as it was given, whatever it looks like', async () => {
    const words = ['-n', 'other', '--kubeconfig=/x', 'a;b', '$(id)', '`id`', '', ' spaced  out ', '*', '--', 'x\ny'];
    const e = await routed(['exec', 'web-1', '--', ...words]);
    expect(e.command).to.deep.equal(['scope-engine', 'exec', '-i', '--runtime', 'cri', 'shop/web-1', '--', ...words]);
    expect(e.pod).to.equal('agent-b');
  });

  it('ps POD lists on the pod\'s node; ps --node NODE on that node, without looking up a pod', async () => {
    const e = await routed(['ps', 'web-1', '--json']);
    expect(e).to.deep.include({ pod: 'agent-b', stdin: false });
    expect(e.command).to.deep.equal(['scope-engine', 'ps', '--runtime', 'cri', '--json']);
    api.requests.length = 0;
    expect((await routed(['ps', '--node', 'node-a'])).pod).to.equal('agent-a');
    expect(api.calls().filter((c) => c.path.startsWith('/api/v1/namespaces/shop/'))).to.deep.equal([]);
  });

  it('a rolling update: the running agent that is not being deleted', async () => {
    expect((await routed(['exec', 'rolling', '--', 'id'])).pod).to.equal('agent-e-new');
  });

  it('SCOPE_AGENT_NAMESPACE and SCOPE_AGENT_SELECTOR say where the agents are', async () => {
    expect((await routed(['exec', 'web-1', '--', 'id'], { SCOPE_AGENT_NAMESPACE: 'kube-system' })).pod)
      .to.equal('other-agent-b');
    api.requests.length = 0;
    expect((await routed(['exec', 'web-1', '--', 'id'], { SCOPE_AGENT_SELECTOR: 'app=other' })).pod)
      .to.equal('not-an-agent');
  });

  it('no such pod: exit 3, saying so, and no agent looked for', async () => {
    const r = await scope(['exec', 'nope', '-n', 'shop', '--', 'id']);
    expect(r).to.deep.include({ code: 3 });
    expect(r.stderr).to.contain('no pod "nope" in namespace "shop"');
    expect(api.calls()[0].path).to.equal('/api/v1/namespaces/shop/pods/nope');
    expect(listed().concat(api.calls().filter((c) => c.method === 'POST'))).to.deep.equal([]);
  });

  it('a pod not scheduled yet: exit 5, with its phase, and no agent looked for', async () => {
    const r = await scope(['run', 'pending']);
    expect(r.code).to.equal(5);
    expect(r.stderr).to.contain('shop/pending is not scheduled on a node yet (phase Pending)');
    expect(listed()).to.deep.equal([]);
  });

  it('no agent on the node: exit 6, naming the node and how to deploy', async () => {
    const r = await scope(['exec', 'lonely', '--', 'id']);
    expect(r.code).to.equal(6);
    expect(r.stderr).to.contain('no scope-engine agent on node node-c').and.to.contain('deploy/kubernetes/');
    expect(api.calls().filter((c) => c.method === 'POST')).to.deep.equal([]);
  });

  it('the node\'s agent is not running: exit 6, naming it and its phase', async () => {
    const r = await scope(['exec', 'waiting', '--', 'id']);
    expect(r.code).to.equal(6);
    expect(r.stderr).to.contain('the scope-engine agent on node node-d is not running: agent-d (Pending)');
    expect(api.calls().filter((c) => c.method === 'POST')).to.deep.equal([]);
  });

  it('a node name from the API that is no node name is not put into the agents\' selector', async () => {
    const r = await scope(['exec', 'odd', '--', 'id']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('which is no node name');
    expect(listed()).to.deep.equal([]);
  });

  const hostile: [string, string[], Record<string, string>?][] = [
    ['a pod that looks like an option', ['exec', '--kubeconfig=/x', '--', 'id']],
    ['a pod with a shell metacharacter', ['exec', 'a;b', '--', 'id']],
    ['a pod that is a path', ['exec', '../x', '--', 'id']],
    ['an upper-case pod', ['exec', 'Web-1', '--', 'id']],
    ['a pod with two dots in a row', ['exec', 'a..b', '--', 'id']],
    ['an empty pod', ['exec', '', '--', 'id']],
    ['a pod longer than 253', ['exec', 'a'.repeat(254), '--', 'id']],
    ['a pod with a terminal escape', ['exec', 'x\u001b[2Jy', '--', 'id']],
    ['a namespace that looks like an option', ['exec', 'web-1', '-n', '--kubeconfig=/x', '--', 'id']],
    ['a namespace with a slash', ['exec', 'web-1', '-n', 'a/b', '--', 'id']],
    ['a namespace with a dot', ['exec', 'web-1', '-n', 'a.b', '--', 'id']],
    ['a namespace longer than 63', ['exec', 'web-1', '-n', 'a'.repeat(64), '--', 'id']],
    ['a container with a command substitution', ['exec', 'web-1', '-c', '$(id)', '--', 'id']],
    ['a node with a comma', ['ps', '--node', 'node-a,spec.nodeName=node-b']],
    ['an agents\' namespace with a space', ['exec', 'web-1', '--', 'id'], { SCOPE_AGENT_NAMESPACE: 'a b' }],
    ['two pods', ['exec', 'web-1', 'web-2', '--', 'id']],
    ['an option kubectl-scope does not know', ['exec', 'web-1', '--as=admin', '--', 'id']],
    ['an option of another verb', ['run', 'web-1', '--all']],
    ['exec without a command', ['exec', 'web-1']],
    ['-c with ps', ['ps', 'web-1', '-c', 'nginx']],
    ['-n without a value', ['exec', 'web-1', '-n']],
    ['an unknown verb', ['delete', 'web-1']],
  ];
  for (const [what, args, env] of hostile) {
    it(`${what}: exit 2 before any API call`, async () => {
      const r = await scope(args, env);
      expect(r.code, r.stderr).to.equal(2);
      expect(r.stderr).to.match(/^kubectl-scope: /).and.not.contain('\u001b');
      expect(api.requests).to.deep.equal([]);
    });
  }

  it('--help teaches the verbs, options and exit codes, and exits 0', async () => {
    const r = await scope(['--help']);
    expect(r.code).to.equal(0);
    for (const word of ['kubectl scope run', 'kubectl scope exec', 'kubectl scope ps', 'kubectl scope stop',
      '--namespace', '--container', '--node', 'SCOPE_AGENT_NAMESPACE', 'Exit status']) {
      expect(r.stdout).to.contain(word);
    }
    expect(api.requests).to.deep.equal([]);
  });

  it('on a terminal, the exec gets one too (-t), and exec\'s engine is given it', async () => {
    // script(1) runs the plugin on a pseudo-terminal; its arguments here need no quoting.
    const r = await new Promise<{ code: number; stdout: string }>((resolve) => {
      const env = { PATH: process.env.PATH, HOME: kube.home, KUBECONFIG: kube.config, KUBECTL };
      execFile('script', ['-qec', `${PLUGIN} exec web-1 -c nginx -- id`, '/dev/null'], { env, timeout: 60_000 },
        (err, stdout) => resolve({ code: err ? Number(err.code) : 0, stdout: String(stdout) }));
    });
    expect(r.stdout).to.contain(EXEC_REFUSED);
    const execs = api.calls().filter((c) => c.method === 'POST');
    expect(execs).to.have.length(1);
    expect(execOf(execs[0])).to.deep.include({ stdin: true, tty: true });
    expect(execOf(execs[0]).command.slice(0, 4)).to.deep.equal(['scope-engine', 'exec', '-i', '-t']);
  });

  it('kubectl finds it on PATH as `kubectl scope`, and it runs the kubectl found there', async () => {
    const bin = join(tempDir('kubectl-path-'), 'bin');
    mkdirSync(bin);
    symlinkSync(PLUGIN, join(bin, 'kubectl-scope'));
    symlinkSync(KUBECTL, join(bin, 'kubectl'));
    const r = await runKube(join(bin, 'kubectl'), ['scope', 'exec', 'web-1', '--', 'id'], kube,
      { KUBECTL: undefined, PATH: `${bin}:/usr/bin:/bin` });
    expect(r.stderr).to.contain(EXEC_REFUSED);
    const execs = api.calls().filter((c) => c.method === 'POST');
    expect(execs.map((c) => execOf(c).pod)).to.deep.equal(['agent-b']);
  });
});
