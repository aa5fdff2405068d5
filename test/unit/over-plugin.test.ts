import { expect } from 'chai';
import { ScopeError, type Container, type ContainerRuntime } from '../../core/index';
import { overPlugin } from '../../testing/over-plugin';

const web: Container = {
  runtime: 'ignored', id: 'abc123', name: 'web', state: 'running', pid: 4242, labels: { app: 'web' }, image: 'busybox',
  spec: '/run/secret/config.json', idMappings: { uid: [{ inside: 0, outside: 100000, count: 65536 }], gid: [] },
};

/** An author's adapter, as a test of theirs would write it. */
const adapter: ContainerRuntime = {
  name: 'mine',
  probe: async () => ({ available: true, version: '1.2' }),
  list: async () => [web, { ...web, id: 'def', name: 'odd', state: 'exploded' as Container['state'] }],
  resolve: async (ref) => {
    if (ref === 'web') return web;
    if (ref === 'old') throw new ScopeError('E_NOT_RUNNING', 'old is stopped');
    if (ref === 'boom') throw new Error('something broke');
    throw new ScopeError('E_NOT_FOUND', `no ${ref}`);
  },
};

describe('overPlugin: an adapter behind the real plugin protocol, in this process', () => {
  it('answers as a plugin would: what runtime.proto carries crosses, the rest does not', async () => {
    const p = await overPlugin(adapter);
    try {
      expect(await p.adapter.probe()).to.deep.include({ available: true, version: '1.2' });
      const c = await p.adapter.resolve('web');
      expect(c).to.deep.equal({ runtime: 'mine', id: 'abc123', name: 'web', state: 'running', pid: 4242,
        labels: { app: 'web' }, image: 'busybox' });
      expect((await p.adapter.list()).map((x) => x.state)).to.deep.equal(['running', 'unknown']);
    } finally {
      await p.close();
    }
  });

  it('errors keep their codes through the status table; others become E_RUNTIME_ERROR with the words', async () => {
    const p = await overPlugin(adapter);
    try {
      const code = (ref: string) =>
        p.adapter.resolve(ref).then(() => 'resolved', (e: ScopeError) => `${e.code}: ${e.message}`);
      expect(await code('nope')).to.equal('E_NOT_FOUND: mine: no nope');
      expect(await code('old')).to.equal('E_NOT_RUNNING: mine: old is stopped');
      expect(await code('boom')).to.equal('E_RUNTIME_ERROR: mine: something broke');
    } finally {
      await p.close();
    }
  });
});
