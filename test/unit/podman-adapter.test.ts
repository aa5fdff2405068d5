import { expect } from 'chai';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { agree, callAdapter, recordings, titleOf, type Recording } from '../support/recorded';
import { withRecorded } from '../support/replay';

/**
 * The podman adapter (dockerode on the compatible API, libpod for ID maps) against answers recorded
 * from the lab's podman service. Every adapter starts with the _ping it decides by, which the
 * probe's recording holds.
 */
function withPodman<T>(r: Recording, fn: (a: ContainerRuntime) => Promise<T>): Promise<T> {
  return withRecorded('podman', [r.file.replace(/\.json$/, ''), 'probe'], (socket) =>
    fn(buildBuiltin('podman', {}, { env: { CONTAINER_HOST: `unix://${socket}` } }).adapter));
}

/** What only podman's answers show, beyond agreeing with podman's own tool. */
function podmanChecks(r: Recording, value: unknown): void {
  if (r.call.method === 'probe') {
    expect((value as ProbeResult).endpoint).to.match(/^unix:\/\/.* \(API\)$/);
  }
  if (r.call.method === 'list') {
    // One request, libpod's list, which has the PIDs: no inspect per container.
    expect(r.exchanges.filter((e) => e.path !== '/_ping')).to.have.length(1);
  }
  const libpod = r.exchanges.find((e) => e.path.startsWith('/v4.0.0/libpod/containers/') && e.status === 200);
  if (r.call.method === 'resolve' && value && libpod) {
    // The user namespace's ID maps, which only libpod's inspect tells.
    const maps = JSON.parse(libpod.body).HostConfig.IDMappings.UidMap.map((l: string) => {
      const [inside, outside, count] = l.split(':').map(Number);
      return { inside, outside, count };
    });
    expect((value as Container).idMappings!.uid).to.deep.equal(maps);
  }
}

describe('podman adapter on recorded answers', () => {
  for (const r of recordings('podman')) {
    it(titleOf(r), () => withPodman(r, async (a) => {
      const out = await callAdapter(a, r.call);
      // An ambiguous prefix, which podman says with a 404, is E_AMBIGUOUS all the same.
      agree(out, r.own);
      podmanChecks(r, out.value);
    }));
  }
});
