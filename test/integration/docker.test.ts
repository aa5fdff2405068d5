import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { cli, json } from '../support/cli';
import { labRow, ownView, requireRuntime, tool } from '../support/lab';

/**
 * What only docker has, against the lab's real dockerd, on the lab file's docker containers and
 * compared with docker's own inspect (the row's pidOf and idOf). What every runtime has is in
 * adapters.test.ts.
 */
describe('docker: what only it has (real daemon)', function () {
  const env = { SCOPE_ENGINE_PLUGINS: '' };
  const row = labRow('docker');
  let pid: number;
  let id: string;

  before(async function () {
    await requireRuntime(this, 'docker');
    ({ pid, id } = await ownView(row));
  });

  for (const [what, ref] of [['/name', () => `/${row.running}`], ['a full ID', () => id],
    ['a short prefix', () => id.slice(0, 5)]] as const) {
    it(`resolve by ${what} prints the PID docker inspect reports`, async () => {
      const r = await cli(['resolve', '--runtime', 'docker', ref()], env);
      expect(r.stderr).to.equal('');
      expect(r).to.deep.include({ code: 0, stdout: `${pid}\n` });
    });
  }

  it('the PID is the container\'s main process: its cgroup names the container ID', async () => {
    const cgroup = readFileSync(`/proc/${pid}/cgroup`, 'utf8');
    expect(cgroup).to.contain(id);
  });

  it('an ID prefix two containers share is E_AMBIGUOUS', async function () {
    // Containers created (not started) until two IDs share a first character; removed afterwards.
    const made: string[] = [];
    const shared = () => {
      const first = tool('docker', ['ps', '-aq', '--no-trunc']).split('\n').map((i) => i[0]);
      return first.find((c, i) => first.indexOf(c) !== i);
    };
    try {
      const create = ['create', '--label', 'scope-lab=1', 'scope-lab-busybox', '/bin/true'];
      while (!shared()) made.push(tool('docker', create));
      const r = await cli(['resolve', '--runtime', 'docker', shared()!, '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([4, 'E_AMBIGUOUS']);
    } finally {
      if (made.length) tool('docker', ['rm', ...made]);
    }
  });

  it('ps --runtime docker lists the lab containers with their full IDs, a stopped one with PID 0', async () => {
    const { containers } = json(await cli(['ps', '--runtime', 'docker', '--json'], env));
    const web = containers.find((c: any) => c.name === row.running);
    expect(web).to.deep.include({ runtime: 'docker', id, state: 'running', pid });
    expect(containers.find((c: any) => c.name === row.stopped)).to.deep.include({ state: 'stopped', pid: 0 });
  });
});
