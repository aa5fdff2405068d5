import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { createEngine, ScopeError } from '../../core/index';
import { buildBuiltin } from '../../testing/harness';
import { tempDir } from '../support/tmp';

/**
 * Fault cases of daemons and their addresses, with no lab: unparsable DOCKER_HOST/CONTAINER_HOST,
 * and daemons faked by sockets of our own in a temp dir that accept and never answer, or that
 * nobody listens on. The lab's daemons are never touched.
 */
const scratch = tempDir('flt-daemons-');
after(() => rmSync(scratch, { recursive: true, force: true }));

/** A unix socket that accepts connections and never says a word. */
async function silentDaemon(name: string): Promise<{ path: string; close: () => void }> {
  const path = join(scratch, name);
  const conns = new Set<Socket>();
  const server: Server = createServer((c) => {
    conns.add(c);
    c.on('error', () => undefined);
  });
  await new Promise<void>((resolve) => server.listen(path, resolve));
  return { path, close: () => { for (const c of conns) c.destroy(); server.close(); } };
}

/** A socket file with nobody behind it: its server was killed, so the file stayed. */
function deadDaemon(name: string): Promise<string> {
  const path = join(scratch, name);
  const script = `require('net').createServer().listen(${JSON.stringify(path)}, ` +
    `() => process.kill(process.pid, 'SIGKILL'))`;
  return new Promise((resolve) => execFile(process.execPath, ['-e', script], () => resolve(path)));
}

async function failure(p: Promise<unknown>): Promise<{ err: ScopeError; ms: number }> {
  const start = Date.now();
  const err = await p.then(() => expect.fail('it succeeded'), (e) => e);
  return { err, ms: Date.now() - start };
}

/** Classic LXC with no tools at all (an empty PATH), so that only LXD can answer. */
const lxdOnly = (env: Record<string, string>) => buildBuiltin('lxc', { lxcpath: join(scratch, 'no-lxcpath') },
  { env: { ...env, PATH: join(scratch, 'no-bin') } }).adapter;

describe('faults: daemon addresses', () => {
  const env = { SCOPE_ENGINE_PLUGINS: '', DOCKER_HOST: 'ssh://user@elsewhere', CONTAINER_HOST: 'not a url' };

  it('an unparsable DOCKER_HOST or CONTAINER_HOST makes only that runtime unavailable, saying why', async () => {
    const engine = await createEngine({ env });
    try {
      const status = await engine.status();
      expect(status.map((s) => s.name)).to.include.members(['docker', 'podman', 'ctr', 'nerdctl', 'lxc']);
      expect(status.find((s) => s.name === 'docker')).to.deep.include({ available: false });
      expect(status.find((s) => s.name === 'docker')!.reason).to.contain('DOCKER_HOST="ssh://user@elsewhere"');
      expect(status.find((s) => s.name === 'podman')!.reason).to.contain('CONTAINER_HOST="not a url"');
      const { err } = await failure(engine.resolve('docker', 'web'));
      expect([err.code, err.message])
        .to.satisfy(([c, m]: string[]) => c === 'E_RUNTIME_UNAVAILABLE' && m.includes('DOCKER_HOST'));
    } finally {
      await engine.close();
    }
  });

  it('podman with an unusable CONTAINER_HOST does not fall back to another podman', async () => {
    const podman = buildBuiltin('podman', {}, { env: { CONTAINER_HOST: 'ftp://x' } }).adapter;
    expect((await podman.probe()).available).to.equal(false);
    expect((await failure(podman.resolve('web'))).err.code).to.equal('E_RUNTIME_UNAVAILABLE');
  });

  it('a bad built-in "host" option is E_PLUGIN_CONFIG naming the file and the entry', async () => {
    const file = join(scratch, 'bad-host.json');
    writeFileSync(file,
      JSON.stringify({ plugins: [{ name: 'docker2', builtin: 'docker', options: { host: 'ssh://x' } }] }));
    const { err } = await failure(createEngine({ env: { SCOPE_ENGINE_PLUGINS: '' }, plugins: [file] }));
    expect(err.code).to.equal('E_PLUGIN_CONFIG');
    expect(err.message).to.contain(file).and.to.contain('entry 0 ("docker2")').and.to.contain('"host"');
  });
});

describe('faults: daemons that do not answer', function () {
  this.timeout(30_000);

  it('an LXD that accepts and never replies is E_RUNTIME_UNAVAILABLE within the default few seconds', async () => {
    const lxd = await silentDaemon('lxd-silent.sock');
    try {
      const lxc = lxdOnly({ LXD_SOCKET: lxd.path });
      const { err, ms } = await failure(lxc.resolve('web'));
      expect(err.code, err.message).to.equal('E_RUNTIME_UNAVAILABLE');
      expect(ms).to.be.below(5_000);
    } finally {
      lxd.close();
    }
  });

  it('an LXD socket with nobody behind it is E_RUNTIME_UNAVAILABLE, not E_NOT_FOUND', async () => {
    const lxc = lxdOnly({ LXD_SOCKET: await deadDaemon('lxd-dead.sock') });
    const { err } = await failure(lxc.resolve('web'));
    expect(err.code, err.message).to.equal('E_RUNTIME_UNAVAILABLE');
  });

  it('a probe of LXD that timed out is not waited for again by the resolve after it', async () => {
    const lxd = await silentDaemon('lxd-twice.sock');
    try {
      const lxc = lxdOnly({ LXD_SOCKET: lxd.path, SCOPE_ENGINE_DAEMON_TIMEOUT_MS: '400' });
      expect((await lxc.probe()).available).to.equal(false);
      const { err, ms } = await failure(lxc.resolve('web'));
      expect([err.code, ms < 300]).to.deep.equal(['E_RUNTIME_UNAVAILABLE', true]);
    } finally {
      lxd.close();
    }
  });

  it('docker, podman and containerd that never answer are unavailable within ' +
    'SCOPE_ENGINE_DAEMON_TIMEOUT_MS', async () => {
    const sock = await silentDaemon('docker-silent.sock');
    try {
      const env = { SCOPE_ENGINE_DAEMON_TIMEOUT_MS: '500', PATH: join(scratch, 'no-bin') };
      const engine = await createEngine({
        env: { ...env, SCOPE_ENGINE_PLUGINS: '', DOCKER_HOST: `unix://${sock.path}`,
          CONTAINER_HOST: `unix://${sock.path}`,
          CONTAINERD_ADDRESS: sock.path, LXD_SOCKET: sock.path },
      });
      try {
        const start = Date.now();
        const status = await engine.status();
        expect(Date.now() - start).to.be.below(2_000);
        for (const name of ['docker', 'ctr', 'nerdctl', 'lxc']) {
          expect(status.find((s) => s.name === name), name).to.deep.include({ available: false });
        }
        // podman falls back on its command when its socket does not answer (where there is one).
        const podman = status.find((s) => s.name === 'podman')!;
        expect(podman.available ? podman.endpoint : 'unavailable').to.match(/^podman CLI \(no API|^unavailable$/);
      } finally {
        await engine.close();
      }
    } finally {
      sock.close();
    }
  });

  it('with no configuration, docker and containerd time out in a few seconds, not ten', async () => {
    const sock = await silentDaemon('default-silent.sock');
    try {
      const start = Date.now();
      const ctr = buildBuiltin('ctr', {}, { env: { CONTAINERD_ADDRESS: sock.path } });
      const [docker, containerd] = await Promise.all([
        buildBuiltin('docker', {}, { env: { DOCKER_HOST: `unix://${sock.path}` } }).adapter.probe(),
        ctr.adapter.probe()]);
      await ctr.close();
      expect([docker.available, containerd.available]).to.deep.equal([false, false]);
      expect(Date.now() - start).to.be.below(5_000);
    } finally {
      sock.close();
    }
  });
});
