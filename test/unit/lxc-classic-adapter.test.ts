import { expect } from 'chai';
import { KIND_LABEL } from '../../adapters/lxc/lxc';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { codeOf } from '../support/codes';
import { agree, callAdapter, recordings, titleOf, type Outcome, type Recording } from '../support/recorded';
import { tempDir } from '../support/tmp';
import { withRecordedTools } from '../support/tools';

/**
 * The lxc adapter's classic side against lxc-ls and lxc-info as the lab's liblxc answered them
 * (fixtures/lxc-classic), played back by stand-ins; no LXD socket is given.
 */
function withClassic<T>(file: string, fn: (a: ContainerRuntime) => Promise<T>): Promise<T> {
  return withRecordedTools('lxc-classic', file.replace(/\.json$/, ''), ['lxc-ls', 'lxc-info'], (env) =>
    // An empty host root: no LXD socket where LXD's usually is.
    fn(buildBuiltin('lxc', { lxcpath: '/var/lib/lxc' }, { env, hostRoot: tempDir('no-lxd-') }).adapter));
}

/** What only classic LXC's answers show, beyond agreeing with its tools asked otherwise. */
function classicChecks(r: Recording, out: Outcome): void {
  const info = r.exchanges.find((e) => e.tool === 'lxc-info');
  if (r.call.method === 'probe') {
    expect((out.value as ProbeResult).endpoint).to.equal(`classic LXC ${info.stdout.trim()} in /var/lib/lxc`);
  }
  if (r.call.method === 'resolve' && out.value) expect((out.value as Container).labels[KIND_LABEL]).to.equal('classic');
  // lxc-info failing ("doesn't exist") is what tells an unknown name.
  if (out.error?.code === 'E_NOT_FOUND') expect(info.code).to.not.equal(0);
}

describe('lxc adapter (classic LXC) on recorded lxc-ls/lxc-info answers', () => {
  for (const r of recordings('lxc-classic')) {
    it(titleOf(r), () => withClassic(r.file, async (a) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      classicChecks(r, out);
    }));
  }

  it('a call never recorded fails instead of reaching the real tools', () => withClassic('list.json', async (a) => {
    expect(await codeOf(a.resolve('lab-lxc'))).to.equal('E_RUNTIME_ERROR');
  }));
});
