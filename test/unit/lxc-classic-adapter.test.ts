import { expect } from 'chai';
import { KIND_LABEL } from '../../adapters/lxc/lxc';
import { LxcHost } from '../../adapters/lxc/monitor';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { codeOf } from '../support/codes';
import { lxcHostExchanges, ReplayLxcHost } from '../support/lxc-host-replay';
import { agree, callAdapter, recordings, titleOf, type Outcome, type Recording } from '../support/recorded';
import { tempDir } from '../support/tmp';
import { withRecordedTools } from '../support/tools';

/**
 * The lxc adapter's classic side against lxc-ls, lxc-info and the containers' monitors as the lab's
 * liblxc answered them (fixtures/lxc-classic), played back by stand-ins; no LXD socket is given.
 */
async function withClassic<T>(file: string, fn: (a: ContainerRuntime) => Promise<T>, strict = true): Promise<T> {
  const host = new ReplayLxcHost(lxcHostExchanges(recordings('lxc-classic').find((r) => r.file === file)!.exchanges));
  const result = await withRecordedTools('lxc-classic', file.replace(/\.json$/, ''), ['lxc-ls', 'lxc-info'], (env) =>
    // An empty host root: no LXD socket where LXD's usually is.
    fn(buildBuiltin('lxc', { lxcpath: '/var/lib/lxc' }, {
      env, hostRoot: tempDir('no-lxd-'), register: (c) => c.register(LxcHost, { useValue: host as unknown as LxcHost }),
    }).adapter));
  if (strict) expect(host.unmatched, 'questions to liblxc never recorded').to.deep.equal([]);
  return result;
}

/** What only classic LXC's answers show, beyond agreeing with its tools asked otherwise. */
function classicChecks(r: Recording, out: Outcome): void {
  const info = r.exchanges.find((e) => e.tool === 'lxc-info');
  if (r.call.method === 'probe') {
    expect((out.value as ProbeResult).endpoint).to.equal(`classic LXC ${info.stdout.trim()} in /var/lib/lxc`);
  }
  if (r.call.method === 'resolve' && out.value) expect((out.value as Container).labels[KIND_LABEL]).to.equal('classic');
  // liblxc's own test of an unknown name, which lxc-info fails with ("doesn't exist"): no config file.
  if (out.error?.code === 'E_NOT_FOUND') {
    expect(lxcHostExchanges(r.exchanges).find((e) => e.lxcHost === 'defined')?.answer).to.equal(false);
  }
  // A running container's PID is its monitor's answer, not a tool's.
  if (r.call.method === 'resolve' && out.value) expect(info, 'lxc-info was run').to.equal(undefined);
}

describe('lxc adapter (classic LXC) on recorded lxc-ls/lxc-info and monitor answers', () => {
  for (const r of recordings('lxc-classic')) {
    it(titleOf(r), () => withClassic(r.file, async (a) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      classicChecks(r, out);
    }));
  }

  it('a call never recorded fails instead of reaching the real tools or monitors', () =>
    withClassic('list.json', async (a) => {
      expect(await codeOf(a.resolve('lab-lxc'))).to.equal('E_RUNTIME_ERROR');
    }, false));
});
