import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

/** The docker adapter against the lab's real dockerd, compared with docker's own inspect. */
describe('docker (real daemon)', function () {
  const env = { SCOPE_ENGINE_PLUGINS: '' };
  let pid: string;
  let id: string;

  before(async function () {
    await requireRuntime(this, 'docker');
    pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web']);
    id = tool('docker', ['inspect', '-f', '{{.Id}}', 'lab-web']);
  });

  for (const [what, ref] of [['a name', () => 'lab-web'], ['/name', () => '/lab-web'], ['a full ID', () => id],
    ['a short prefix', () => id.slice(0, 5)]] as const) {
    it(`resolve by ${what} prints the PID docker inspect reports`, async () => {
      const r = await cli(['resolve', '--runtime', 'docker', ref()], env);
      expect(r.stderr).to.equal('');
      expect(r).to.deep.include({ code: 0, stdout: `${pid}\n` });
    });
  }

  it('the PID is the container\'s main process: its cgroup names the container ID', async () => {
    const cgroup = execFileSync('cat', [`/proc/${pid}/cgroup`], { encoding: 'utf8' });
    expect(cgroup).to.contain(id);
  });

  it('a stopped container is E_NOT_RUNNING, an unknown name E_NOT_FOUND', async () => {
    const stopped = await cli(['resolve', '--runtime', 'docker', 'lab-stopped', '--json'], env);
    expect([stopped.code, json(stopped).error.code]).to.deep.equal([5, 'E_NOT_RUNNING']);
    const unknown = await cli(['resolve', '--runtime', 'docker', 'no-such-container-here', '--json'], env);
    expect([unknown.code, json(unknown).error.code]).to.deep.equal([3, 'E_NOT_FOUND']);
  });

  it('an ID prefix two containers share is E_AMBIGUOUS', async function () {
    // Containers created (not started) until two IDs share a first character; removed afterwards.
    const made: string[] = [];
    const shared = () => {
      const first = tool('docker', ['ps', '-aq', '--no-trunc']).split('\n').map((i) => i[0]);
      return first.find((c, i) => first.indexOf(c) !== i);
    };
    try {
      while (!shared()) made.push(tool('docker', ['create', '--label', 'scope-lab=1', 'scope-lab-busybox', '/bin/true']));
      const r = await cli(['resolve', '--runtime', 'docker', shared()!, '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([4, 'E_AMBIGUOUS']);
    } finally {
      if (made.length) tool('docker', ['rm', ...made]);
    }
  });

  it('ps --runtime docker lists the lab containers with their PIDs', async () => {
    const { containers } = json(await cli(['ps', '--runtime', 'docker', '--json'], env));
    const web = containers.find((c: any) => c.name === 'lab-web');
    expect(web).to.deep.include({ runtime: 'docker', id, state: 'running', pid: Number(pid) });
    expect(containers.find((c: any) => c.name === 'lab-stopped')).to.deep.include({ state: 'stopped', pid: 0 });
  });
});
