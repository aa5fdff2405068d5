import { expect } from 'chai';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { loadRecording, withRecorded } from '../support/replay';

/**
 * The podman adapter (dockerode on the compatible API, libpod for ID maps) against answers recorded
 * from the lab's podman service. Every scenario starts with the _ping the adapter decides by.
 */
function withPodman<T>(scenario: string, fn: (a: ContainerRuntime, answers: any[]) => Promise<T>): Promise<T> {
  return withRecorded('podman', [scenario, 'probe'], (socket, answers) =>
    fn(buildBuiltin('podman', {}, { env: { CONTAINER_HOST: `unix://${socket}` } }).adapter, answers));
}

const codeOf = (p: Promise<unknown>) => p.then(() => 'resolved', (e) => e.code);

describe('podman adapter on recorded answers', () => {
  it('probe says the API is in use and names the libpod API version', () => withPodman('probe', async (a) => {
    const p = await a.probe();
    expect(p.available).to.equal(true);
    expect(p.endpoint).to.match(/^unix:\/\/.* \(API\)$/);
    expect(p.version).to.match(/^\d+\.\d+/);
  }));

  it('resolves a name through the compatible endpoint and reads the ID maps from libpod', () => withPodman('resolve-name', async (a, [compat, libpod]) => {
    const c = await a.resolve('lab-pod-userns');
    expect(c).to.deep.include({ id: compat.Id, name: 'lab-pod-userns', pid: compat.State.Pid, state: 'running' });
    expect(c.idMappings!.uid).to.deep.equal(libpod.HostConfig.IDMappings.UidMap.map((l: string) => {
      const [inside, outside, count] = l.split(':').map(Number);
      return { inside, outside, count };
    }));
  }));

  it('resolves a full ID and a prefix', async () => {
    await withPodman('resolve-full-id', async (a, [compat]) => expect((await a.resolve(compat.Id)).name).to.equal('lab-pod-userns'));
    await withPodman('resolve-prefix', async (a, [compat]) => expect((await a.resolve(compat.Id.slice(0, 6))).id).to.equal(compat.Id));
  });

  it('an ambiguous prefix (podman says so with a 404) is E_AMBIGUOUS, not E_NOT_FOUND', () => withPodman('resolve-ambiguous', async (a) => {
    const path = loadRecording('podman', 'resolve-ambiguous').exchanges[0].path;
    expect(await codeOf(a.resolve(path.split('/')[2]))).to.equal('E_AMBIGUOUS');
  }));

  it('unknown is E_NOT_FOUND, stopped is E_NOT_RUNNING', async () => {
    await withPodman('resolve-unknown', async (a) => expect(await codeOf(a.resolve('no-such-container'))).to.equal('E_NOT_FOUND'));
    await withPodman('resolve-stopped', async (a) => expect(await codeOf(a.resolve('lab-pod-stopped'))).to.equal('E_NOT_RUNNING'));
  });

  it('lists every container with its PID from libpod\'s list, in one request', () => withPodman('list', async (a, [, listed]) => {
    const all = await a.list();
    expect(all.map((c) => [c.id, c.pid])).to.deep.equal(listed.map((e: any) => [e.Id, e.Pid]));
  }));
});
