import { expect } from 'chai';
import { KIND_LABEL } from '../../adapters/lxc/lxc';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { tempDir } from '../support/tmp';
import type { ToolExchange } from '../support/tool-replay';
import { withRecordedTools } from '../support/tools';

/**
 * The lxc adapter's classic side against lxc-ls and lxc-info as the lab's liblxc answered them
 * (fixtures/lxc-classic), played back by stand-ins; no LXD socket is given.
 */
function withClassic<T>(scenario: string, fn: (a: ContainerRuntime, recorded: ToolExchange[]) => Promise<T>): Promise<T> {
  return withRecordedTools('lxc-classic', scenario, ['lxc-ls', 'lxc-info'], (env, recorded) =>
    // An empty host root: no LXD socket where LXD's usually is.
    fn(buildBuiltin('lxc', { lxcpath: '/var/lib/lxc' }, { env, hostRoot: tempDir('no-lxd-') }).adapter, recorded));
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e.code);
const said = (recorded: ToolExchange[], tool: string) => recorded.find((e) => e.tool === tool)!;

describe('lxc adapter (classic LXC) on recorded lxc-ls/lxc-info answers', () => {
  it('probe names the lxcpath and the version lxc-info printed', () => withClassic('probe', async (a, recorded) => {
    const p = await a.probe();
    expect(p.available).to.equal(true);
    expect(p.endpoint).to.equal(`classic LXC ${said(recorded, 'lxc-info').stdout.trim()} in /var/lib/lxc`);
  }));

  it('resolves by name to the PID lxc-info printed', () => withClassic('resolve-name', async (a, recorded) => {
    const pid = Number(/^PID:\s+(\d+)$/m.exec(said(recorded, 'lxc-info').stdout)![1]);
    const c = await a.resolve('lab-lxc');
    expect(c).to.deep.include({ id: 'lab-lxc', name: 'lab-lxc', state: 'running', pid, runtime: 'lxc' });
    expect(c.labels[KIND_LABEL]).to.equal('classic');
  }));

  it('unknown (lxc-info: "doesn\'t exist") is E_NOT_FOUND, stopped is E_NOT_RUNNING', async () => {
    await withClassic('resolve-unknown', async (a, recorded) => {
      expect(said(recorded, 'lxc-info').code).to.not.equal(0);
      expect(await codeOf(a.resolve('no-such-container'))).to.equal('E_NOT_FOUND');
    });
    await withClassic('resolve-stopped', async (a) => expect(await codeOf(a.resolve('lab-lxc-stopped'))).to.equal('E_NOT_RUNNING'));
  });

  it('lists every row of lxc-ls --fancy, stopped ones with PID 0', () => withClassic('list', async (a, recorded) => {
    const rows = said(recorded, 'lxc-ls').stdout.trim().split('\n').slice(1).map((l) => l.trim().split(/\s+/));
    const all = await a.list();
    expect(all.map((c) => [c.name, c.pid])).to.deep.equal(rows.map(([name, , pid]) => [name, pid === '-' ? 0 : Number(pid)]));
    expect(all.filter((c) => c.state === 'stopped').map((c) => c.name)).to.include('lab-lxc-stopped');
  }));

  it('a call never recorded fails instead of reaching the real tools', () => withClassic('list', async (a) => {
    expect(await codeOf(a.resolve('lab-lxc'))).to.equal('E_RUNTIME_ERROR');
  }));
});
