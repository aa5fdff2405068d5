import { expect } from 'chai';
import { GuardedRuntime } from '../../core/guarded-runtime';
import { ScopeError, type Container, type ContainerRuntime } from '../../core/index';
import { overPlugin } from '../../testing/over-plugin';
import { codeOf } from '../support/codes';

const web: Container = {
  runtime: 'mine', id: 'abc123', name: 'web', state: 'running', pid: 4242, labels: {}, image: '',
};

/** An adapter without currentPid(), counting its resolves; `now` is what resolving says now. */
function resolving(now: () => Container): ContainerRuntime & { resolves: string[] } {
  const resolves: string[] = [];
  return {
    name: 'mine', resolves,
    probe: async () => ({ available: true }),
    list: async () => [now()],
    resolve: async (ref) => {
      resolves.push(ref);
      return now();
    },
  };
}

describe('currentPid: the check after pinning a PID, for every adapter', () => {
  it('an adapter without it is resolved again by ID, and another container there is PID 0', async () => {
    let now = web;
    const inner = resolving(() => now);
    const guarded = new GuardedRuntime('mine', inner);
    expect(await guarded.currentPid(web)).to.equal(4242);
    now = { ...web, pid: 5000 };
    expect(await guarded.currentPid(web)).to.equal(5000);
    now = { ...web, id: 'fff999' };
    expect(await guarded.currentPid(web)).to.equal(0);
    expect(inner.resolves).to.deep.equal(['abc123', 'abc123', 'abc123']);
  });

  it('an adapter without it fails as its resolve does', async () => {
    const inner = resolving(() => {
      throw new ScopeError('E_NOT_RUNNING', 'web is stopped');
    });
    expect(await codeOf(new GuardedRuntime('mine', inner).currentPid(web))).to.equal('E_NOT_RUNNING');
  });

  it('an adapter\'s own is used instead of resolving, within the same deadline as every call', async () => {
    const inner = { ...resolving(() => web), currentPid: async (c: Container) => c.pid + 1 };
    expect(await new GuardedRuntime('mine', inner).currentPid(web)).to.equal(4243);
    expect(inner.resolves).to.deep.equal([]);
    const stuck = { ...resolving(() => web), currentPid: () => new Promise<number>(() => undefined) };
    const err = await new GuardedRuntime('mine', stuck, { deadlineMs: 50 }).currentPid(web).catch((e) => e);
    expect(err.code).to.equal('E_RUNTIME_UNAVAILABLE');
    expect(err.message).to.match(/checking container web in mine/);
  });

  it('a plugin needs no change to its protocol: the engine resolves through it again', async () => {
    const inner = { ...resolving(() => web), currentPid: async () => 1 };
    const p = await overPlugin(inner);
    try {
      // What crosses the protocol has no currentPid: the guard falls back to the plugin's resolve.
      expect(p.adapter.currentPid).to.equal(undefined);
      expect(await new GuardedRuntime('mine', p.adapter).currentPid(web)).to.equal(4242);
      expect(inner.resolves).to.deep.equal(['abc123']);
    } finally {
      await p.close();
    }
  });
});
