import { expect } from 'chai';
import { KIND_LABEL } from '../../adapters/lxc/lxc';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { withRecorded } from '../support/replay';

/** The lxc adapter's LXD side against answers recorded from the lab's LXD (classic LXC is absent here). */
function withLxd<T>(scenario: string, fn: (a: ContainerRuntime, answers: any[]) => Promise<T>): Promise<T> {
  return withRecorded('lxd', [scenario], (socket, answers) =>
    fn(buildBuiltin('lxc', { lxcpath: '/nonexistent-lxcpath' }, { env: { LXD_SOCKET: socket } }).adapter, answers));
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e.code);

describe('lxc adapter (LXD) on recorded answers', () => {
  it('probe names the server and its socket', () => withLxd('probe', async (a, [server]) => {
    const p = await a.probe();
    expect(p).to.deep.include({ available: true, version: server.metadata.environment.server_version });
    expect(p.endpoint).to.match(/\(lxd\)/);
  }));

  it('resolves an instance by name to the PID of its state, with its ID maps', () => withLxd('resolve-name', async (a, [inst, state]) => {
    const c = await a.resolve('lab-lxd');
    expect(c).to.deep.include({ id: 'lab-lxd', name: 'lab-lxd', state: 'running', pid: state.metadata.pid });
    expect(c.labels[KIND_LABEL]).to.equal('lxd');
    const map = JSON.parse(inst.metadata.config['volatile.idmap.current']).find((e: any) => e.Isuid);
    expect(c.idMappings!.uid).to.deep.equal([{ inside: map.Nsid, outside: map.Hostid, count: map.Maprange }]);
  }));

  it('unknown is E_NOT_FOUND, stopped is E_NOT_RUNNING', async () => {
    await withLxd('resolve-unknown', async (a) => expect(await codeOf(a.resolve('no-such-container'))).to.equal('E_NOT_FOUND'));
    await withLxd('resolve-stopped', async (a) => expect(await codeOf(a.resolve('lab-lxd-stopped'))).to.equal('E_NOT_RUNNING'));
  });

  it('lists instances with their PIDs (recursion=2)', () => withLxd('list', async (a, [listed]) => {
    const all = await a.list();
    expect(all.map((c) => [c.name, c.pid])).to.deep.equal(listed.metadata.map((i: any) => [i.name, i.state?.pid ?? 0]));
  }));
});
