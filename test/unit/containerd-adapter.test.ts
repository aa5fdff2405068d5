import { expect } from 'chai';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { GrpcReplayServer, loadGrpcRecording } from '../support/grpc-replay';

/** The ctr and nerdctl adapters (real grpc-js client, the project's protos) on answers recorded from containerd. */
async function withContainerd<T>(scenario: string, fn: (ctr: ContainerRuntime, nerdctl: ContainerRuntime, answers: any[]) => Promise<T>): Promise<T> {
  const rec = loadGrpcRecording(scenario);
  const server = await new GrpcReplayServer(rec.exchanges).start();
  const env = { CONTAINERD_ADDRESS: `unix://${server.socketPath}` };
  const [ctr, nerdctl] = ['ctr', 'nerdctl'].map((id) => buildBuiltin(id, { namespace: 'default' }, { env }));
  try {
    const result = await fn(ctr.adapter, nerdctl.adapter, rec.exchanges.map((e) => e.response));
    expect(server.unmatched, 'calls never recorded').to.deep.equal([]);
    return result;
  } finally {
    await Promise.all([ctr.close(), nerdctl.close()]);
    await server.stop();
  }
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e.code);

describe('containerd adapters on recorded answers', () => {
  it('probe reports containerd\'s version and the namespace', () => withContainerd('probe', async (ctr, _n, [version]) => {
    const p = await ctr.probe();
    expect(p).to.deep.include({ available: true, version: version.version });
    expect(p.endpoint).to.match(/namespace default$/);
  }));

  it('ctr resolves an exact ID to its task\'s PID', () => withContainerd('ctr-resolve-id', async (ctr, _n, [, task]) => {
    expect(await ctr.resolve('lab-ctr')).to.deep.include({ id: 'lab-ctr', name: 'lab-ctr', state: 'running', pid: task.process.pid });
  }));

  it('ctr resolves a unique ID prefix', () => withContainerd('ctr-resolve-prefix', async (ctr) => {
    const rec = loadGrpcRecording('ctr-resolve-prefix');
    const prefix = (rec.exchanges[0].request as { id: string }).id;
    expect((await ctr.resolve(prefix)).id.startsWith(prefix)).to.equal(true);
  }));

  it('ctr: unknown is E_NOT_FOUND, a container without a task is E_NOT_RUNNING', async () => {
    await withContainerd('ctr-resolve-unknown', async (ctr, _n, answers) => {
      const err = await ctr.resolve('no-such-container').catch((e) => e);
      expect(err.code).to.equal('E_NOT_FOUND');
      // The message names the namespaces containerd has, from its Namespaces service.
      const listed = answers.find((a) => a?.namespaces)!.namespaces.map((n: { name: string }) => n.name);
      expect(err.details.namespaces).to.deep.equal(listed);
      expect(err.message).to.contain(`this containerd has: ${listed.join(', ')}`);
    });
    await withContainerd('ctr-resolve-stopped', async (ctr) => expect(await codeOf(ctr.resolve('lab-ctr-stopped'))).to.equal('E_NOT_RUNNING'));
  });

  it('ctr lists every container with its task\'s PID', () => withContainerd('ctr-list', async (ctr, _n, [containers, tasks]) => {
    const all = await ctr.list();
    expect(all.map((c) => c.id).sort()).to.deep.equal(containers.containers.map((c: any) => c.id).sort());
    for (const t of tasks.tasks) expect(all.find((c) => c.id === t.id)?.pid).to.equal(t.pid);
  }));

  it('nerdctl (containers made through containerd with nerdctl\'s labels) resolves by name and by ID prefix', async () => {
    await withContainerd('nerdctl-resolve-name', async (_c, nerdctl, [list, task]) => {
      expect(await nerdctl.resolve('lab-nerd')).to.deep.include({ name: 'lab-nerd', id: list.containers[0].id, pid: task.process.pid });
    });
    await withContainerd('nerdctl-resolve-prefix', async (_c, nerdctl, [list]) => {
      expect((await nerdctl.resolve(list.containers[0].id.slice(0, 8))).name).to.equal('lab-nerd');
    });
    await withContainerd('nerdctl-resolve-unknown', async (_c, nerdctl) => expect(await codeOf(nerdctl.resolve('no-such-container'))).to.equal('E_NOT_FOUND'));
  });

  it('nerdctl lists only what nerdctl made, by its name label', () => withContainerd('nerdctl-list', async (_c, nerdctl, [listed]) => {
    // The replay answers only the recorded request, whose filter is the label's presence.
    const made = listed.containers.map((c: any) => c.labels['nerdctl/name']);
    expect(made).to.include('lab-nerd').and.not.include(undefined);
    expect((await nerdctl.list()).map((c) => c.name)).to.deep.equal(made);
  }));
});
