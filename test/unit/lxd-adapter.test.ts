import { expect } from 'chai';
import { KIND_LABEL } from '../../adapters/lxc/lxc';
import { LxcHost } from '../../adapters/lxc/monitor';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { lxcHostExchanges, ReplayLxcHost } from '../support/lxc-host-replay';
import { agree, callAdapter, recordings, titleOf, type Recording } from '../support/recorded';
import { withRecorded } from '../support/replay';

/**
 * The lxc adapter's LXD side against one recording of the lab's LXD (classic LXC is absent here):
 * the daemon's answers on a replayed socket, its containers' monitors' answers from a replayed LxcHost.
 */
async function withLxd<T>(r: Recording, fn: (a: ContainerRuntime) => Promise<T>): Promise<T> {
  const host = new ReplayLxcHost(lxcHostExchanges(r.exchanges));
  const result = await withRecorded('lxd', [r.file.replace(/\.json$/, '')], (socket) =>
    fn(buildBuiltin('lxc', { lxcpath: '/nonexistent-lxcpath' }, {
      env: { LXD_SOCKET: socket, LXD_DIR: '/var/lib/lxd' },
      register: (c) => c.register(LxcHost, { useValue: host as unknown as LxcHost }),
    }).adapter));
  expect(host.unmatched, 'questions to liblxc never recorded').to.deep.equal([]);
  return result;
}

/** What only LXD's answers show, beyond agreeing with LXD's own client. */
function lxdChecks(r: Recording, value: unknown): void {
  if (r.call.method === 'probe') expect((value as ProbeResult).endpoint).to.match(/\(lxd\)/);
  if (r.call.method !== 'resolve' || !value) return;
  const c = value as Container;
  expect(c.labels[KIND_LABEL]).to.equal('lxd');
  // The ID maps, from the instance's volatile.idmap.current.
  const instance = JSON.parse(r.exchanges.find((e) => e.path === `/1.0/instances/${r.call.ref}`).body).metadata;
  const map = JSON.parse(instance.config['volatile.idmap.current']).find((e: any) => e.Isuid);
  expect(c.idMappings!.uid).to.deep.equal([{ inside: map.Nsid, outside: map.Hostid, count: map.Maprange }]);
}

describe('lxc adapter (LXD) on recorded answers', () => {
  for (const r of recordings('lxd')) {
    it(titleOf(r), () => withLxd(r, async (a) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      lxdChecks(r, out.value);
    }));
  }
});
