import { expect } from 'chai';
import type { ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { GrpcReplayServer } from '../support/grpc-replay';
import { agree, callAdapter, recordings, titleOf, type Outcome, type Recording } from '../support/recorded';

/** The adapter a recording names (ctr or nerdctl: real grpc-js client, the project's protos) on its answers. */
async function withContainerd<T>(r: Recording, fn: (a: ContainerRuntime) => Promise<T>): Promise<T> {
  const server = await new GrpcReplayServer(r.exchanges).start();
  const env = { CONTAINERD_ADDRESS: `unix://${server.socketPath}` };
  const built = buildBuiltin(r.call.adapter, { namespace: 'default' }, { env });
  try {
    const result = await fn(built.adapter);
    expect(server.unmatched, 'calls never recorded').to.deep.equal([]);
    return result;
  } finally {
    await built.close();
    await server.stop();
  }
}

/** What only containerd's answers show, beyond agreeing with ctr's own word. */
function containerdChecks(r: Recording, out: Outcome): void {
  if (r.call.method === 'probe') expect((out.value as ProbeResult).endpoint).to.match(/namespace default$/);
  if (out.error?.code === 'E_NOT_FOUND' && r.call.adapter === 'ctr') {
    // The message names the namespaces containerd has, from its Namespaces service.
    const { namespaces } = r.exchanges.find((e) => e.response?.namespaces)!.response;
    const listed = namespaces.map((n: { name: string }) => n.name);
    expect(out.error.details!.namespaces).to.deep.equal(listed);
    expect(out.error.message).to.contain(`this containerd has: ${listed.join(', ')}`);
  }
  if (r.call.method === 'list' && r.call.adapter === 'nerdctl') {
    // Only what nerdctl made: the request filters on its name label (the replay answers only that).
    expect(r.exchanges[0].request.filters).to.deep.equal(['labels."nerdctl/name"']);
  }
}

describe('containerd adapters on recorded answers', () => {
  for (const r of recordings('containerd')) {
    it(`${r.call.adapter}: ${titleOf(r)}`, () => withContainerd(r, async (a) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      containerdChecks(r, out);
    }));
  }
});
