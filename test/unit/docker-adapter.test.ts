import { expect } from 'chai';
import { ScopeError } from '../../base/errors';
import type { ContainerRuntime } from '../../core/runtime';
import { buildBuiltin } from '../../testing/harness';
import { loadRecording, ReplayServer, withRecorded } from '../support/replay';

/** The docker adapter as the engine builds it, with `env` as its whole environment. */
const docker = (env: Record<string, string>, options = {}) => buildBuiltin('docker', options, { env }).adapter;

/** The docker adapter (real dockerode) against answers recorded from the lab's dockerd. */
function withReplay<T>(scenario: string, fn: (adapter: ContainerRuntime, answers: any[]) => Promise<T>): Promise<T> {
  return withRecorded('docker', [scenario], (socket, answers) => fn(docker({ DOCKER_HOST: `unix://${socket}` }), answers));
}

async function codeOf(p: Promise<unknown>): Promise<string> {
  const err = await p.then(() => undefined, (e) => e);
  expect(err).to.be.instanceOf(ScopeError);
  return (err as ScopeError).code;
}

describe('docker adapter on recorded answers', () => {
  it('probe reports the daemon version and endpoint', () => withReplay('probe', async (a, [version]) => {
    const p = await a.probe();
    expect(p.available).to.equal(true);
    expect(p.version).to.equal(version.Version);
    expect(p.endpoint).to.match(/^unix:\/\//);
  }));

  it('probe says which socket is missing', async () => {
    const a = docker({ DOCKER_HOST: 'unix:///nonexistent/docker.sock' });
    expect(await a.probe()).to.deep.include({ available: false, reason: 'socket /nonexistent/docker.sock: no such file' });
  });

  it('resolves a name to the PID inspect reported, without the leading slash', () => withReplay('resolve-name', async (a, [inspect]) => {
    const c = await a.resolve('lab-web');
    expect(c).to.deep.include({ id: inspect.Id, name: 'lab-web', state: 'running', pid: inspect.State.Pid, image: inspect.Config.Image });
    expect(c.pid).to.be.above(0);
    expect(c.labels).to.deep.equal(inspect.Config.Labels);
  }));

  it('takes /name as docker does', () => withReplay('resolve-name', async (a, [inspect]) => {
    expect((await a.resolve('/lab-web')).pid).to.equal(inspect.State.Pid);
  }));

  it('resolves a full ID and an ID prefix', async () => {
    await withReplay('resolve-full-id', async (a, [inspect]) => {
      expect((await a.resolve(inspect.Id)).name).to.equal('lab-web');
    });
    await withReplay('resolve-prefix', async (a, [inspect]) => {
      expect((await a.resolve(inspect.Id.slice(0, 6))).id).to.equal(inspect.Id);
    });
  });

  it('an ambiguous prefix is E_AMBIGUOUS and lists the candidates', () => withReplay('resolve-ambiguous', async (a, [, list]) => {
    const prefix = loadRecording('docker', 'resolve-ambiguous').exchanges[0].path.split('/')[2];
    const err = await a.resolve(prefix).catch((e) => e);
    expect(err.code).to.equal('E_AMBIGUOUS');
    const expected = list.map((c: any) => c.Id).filter((id: string) => id.startsWith(prefix));
    expect(expected.length).to.be.above(1);
    expect(err.details.candidates).to.deep.equal(expected);
  }));

  it('an unknown name is E_NOT_FOUND; a stopped container E_NOT_RUNNING', async () => {
    await withReplay('resolve-unknown', async (a) => expect(await codeOf(a.resolve('no-such-container'))).to.equal('E_NOT_FOUND'));
    await withReplay('resolve-stopped', async (a) => expect(await codeOf(a.resolve('lab-stopped'))).to.equal('E_NOT_RUNNING'));
  });

  it('lists every container, stopped ones with PID 0', () => withReplay('list', async (a, [listed]) => {
    const all = await a.list();
    expect(all.map((c) => c.id).sort()).to.deep.equal(listed.map((c: any) => c.Id).sort());
    const stopped = all.find((c) => c.name === 'lab-stopped');
    expect(stopped).to.deep.include({ state: 'stopped', pid: 0 });
    expect(all.find((c) => c.name === 'lab-web')?.pid).to.be.above(0);
  }));

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
