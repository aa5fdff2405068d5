import { expect } from 'chai';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { codeOf } from '../support/codes';
import { agree, callAdapter, recordings, titleOf, type Recording } from '../support/recorded';
import { ReplayServer, withRecorded } from '../support/replay';

/** The docker adapter as the engine builds it, with `env` as its whole environment. */
const docker = (env: Record<string, string>, options = {}) => buildBuiltin('docker', options, { env }).adapter;

/** The docker adapter (real dockerode) against one recording of the lab's dockerd. */
function withReplay<T>(r: Recording, fn: (adapter: ContainerRuntime) => Promise<T>): Promise<T> {
  const scenario = r.file.replace(/\.json$/, '');
  return withRecorded('docker', [scenario], (socket) => fn(docker({ DOCKER_HOST: `unix://${socket}` })));
}

/** What only docker's answers show, beyond agreeing with docker's own tool. */
async function dockerChecks(r: Recording, a: ContainerRuntime, value: unknown): Promise<void> {
  if (r.call.method === 'probe') {
    expect((value as ProbeResult).endpoint).to.match(/^unix:\/\//);
    expect((value as ProbeResult).version).to.equal(JSON.parse(r.exchanges[0].body).Version);
  }
  if (r.call.method !== 'resolve' || !value) return;
  const c = value as Container;
  const inspect = JSON.parse(r.exchanges[0].body);
  expect(c).to.deep.include({ image: inspect.Config.Image });
  expect(c.labels).to.deep.equal(inspect.Config.Labels);
  // A name, with or without the slash docker keeps in front of it, names the same container.
  if (r.call.ref === c.name) expect((await a.resolve(`/${c.name}`)).pid).to.equal(c.pid);
}

describe('docker adapter on recorded answers', () => {
  for (const r of recordings('docker')) {
    it(titleOf(r), () => withReplay(r, async (a) => {
      const out = await callAdapter(a, r.call);
      agree(out, r.own);
      await dockerChecks(r, a, out.value);
    }));
  }

  it('probe says which socket is missing', async () => {
    const a = docker({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    const reason = 'socket /nonexistent/docker.sock: no such file';
    expect(await a.probe()).to.deep.include({ available: false, reason });
  });

  it('a dead daemon is E_RUNTIME_UNAVAILABLE', async () => {
    const server = await new ReplayServer([]).start();
    const path = server.socketPath;
    await server.stop();
    const a = docker({}, { host: `unix://${path}` });
    expect(await codeOf(a.resolve('web'))).to.equal('E_RUNTIME_UNAVAILABLE');
  });

  it('refuses a remote daemon address: its PIDs are not ours (only this runtime is unavailable)', async () => {
    const a = docker({ DOCKER_HOST: 'ssh://user@host' });
    expect(await a.probe()).to.deep.include({ available: false });
    expect((await a.probe()).reason).to.contain('DOCKER_HOST="ssh://user@host" is not an address');
    expect(await codeOf(a.resolve('web'))).to.equal('E_RUNTIME_UNAVAILABLE');
  });
});
