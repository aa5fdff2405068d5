import { expect } from 'chai';
import { readFileSync, readlinkSync } from 'node:fs';
import { cli, json } from '../support/cli';
import { labRow, labRows, ownView, requireRuntime, tool } from '../support/lab';

/**
 * Every built-in adapter against its real daemon from the lab, on the lab file's containers: the
 * PID scope-engine resolves is the one the runtime's own tool reports (the row's pidOf), by name
 * and by ID prefix; unknown and stopped containers are distinct errors; exec runs inside. The
 * nerdctl row's containers are made through containerd with nerdctl's labels, since nerdctl is
 * not packaged for these machines.
 */
const env = { SCOPE_ENGINE_PLUGINS: '' };

/** Host UID of the container's root, from its main process's uid_map. */
function hostRootOf(pid: number): number {
  for (const line of readFileSync(`/proc/${pid}/uid_map`, 'utf8').trim().split('\n')) {
    const [inside, outside] = line.trim().split(/\s+/).map(Number);
    if (inside === 0) return outside;
  }
  throw new Error(`root of PID ${pid} is unmapped`);
}

for (const row of labRows()) {
  describe(`${row.label} (real daemon)`, function () {
    before(async function () {
      await requireRuntime(this, row.runtime);
    });

    it(`resolve --runtime ${row.runtime} ${row.running} prints the PID the runtime's own tool reports`, async () => {
      const r = await cli(['resolve', '--runtime', row.runtime, row.running], env);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(`${(await ownView(row)).pid}\n`);
    });

    if (row.idOf) {
      it('resolves an ID prefix to the container with that ID, and the PID its runtime reports for it', async () => {
        const own = await ownView(row);
        // ctr's IDs are names: lab-ctr is whole, and a prefix of lab-ctr-stopped too; the container
        // with exactly that ID must win.
        const prefix = own.id.slice(0, 8);
        const r = await cli(['resolve', '--runtime', row.runtime, prefix, '--json'], env);
        expect([r.code, r.stderr]).to.deep.equal([0, '']);
        expect(json(r)).to.deep.include({ id: own.id, pid: own.pid });
      });
    }

    it('an unknown name is E_NOT_FOUND', async () => {
      const r = await cli(['resolve', '--runtime', row.runtime, 'no-such-container-here', '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([3, 'E_NOT_FOUND']);
    });

    if (row.stopped) {
      it(`a stopped container (${row.stopped}) is E_NOT_RUNNING`, async () => {
        const r = await cli(['resolve', '--runtime', row.runtime, row.stopped!, '--json'], env);
        expect([r.code, json(r).error.code]).to.deep.equal([5, 'E_NOT_RUNNING']);
      });
    }

    it('exec runs a command inside, in the container\'s mount namespace', async () => {
      const { pid } = await ownView(row);
      const r = await cli(['exec', '--runtime', row.runtime, row.running, '--', 'readlink', '/proc/self/ns/mnt'], env);
      expect([r.code, r.stderr]).to.deep.equal([0, '']);
      expect(r.stdout.trim()).to.equal(readlinkSync(`/proc/${pid}/ns/mnt`));
    });

    it('ps lists it with its PID', async () => {
      const { containers } = json(await cli(['ps', '--runtime', row.runtime, '--json'], env));
      const mine = containers.find((x: any) => x.name === row.running);
      expect(mine).to.deep.include({ runtime: row.runtime, state: 'running', pid: (await ownView(row)).pid });
    });

    if (row.hostRoot !== undefined) {
      it(`its root is host UID ${row.hostRoot}, as the lab file says (the flow tests count on it)`, async () => {
        expect(hostRootOf((await ownView(row)).pid)).to.equal(row.hostRoot);
      });
    }
  });
}

describe('every runtime at once (real daemons)', function () {
  before(async function () {
    for (const r of new Set(labRows().map((row) => row.runtime))) await requireRuntime(this, r);
  });

  it('ps --runtime all lists every lab container', async () => {
    const r = json(await cli(['ps', '--runtime', 'all', '--json'], env));
    expect(r.unavailable).to.deep.equal([]);
    const names = r.containers.map((x: any) => `${x.runtime}/${x.name}`);
    for (const row of labRows()) expect(names).to.include(`${row.runtime}/${row.running}`);
  });

  it('podman reports the user namespace\'s ID maps from libpod', async () => {
    const row = labRow('podman (user namespace)');
    const r = json(await cli(['resolve', '--runtime', 'podman', row.running, '--json'], env));
    expect(r.idMappings.uid).to.deep.equal([{ inside: 0, outside: row.hostRoot, count: 65536 }]);
  });

  it('podman falls back to its command when no API socket listens, and says so', async () => {
    const row = labRow('podman');
    const noSocket = { ...env, CONTAINER_HOST: 'unix:///nonexistent/podman.sock' };
    const status = json(await cli(['runtimes', '--json'], noSocket)).find((s: any) => s.name === 'podman');
    expect(status.available).to.equal(true);
    expect(status.endpoint).to.match(/^podman CLI \(no API: socket \/nonexistent\/podman.sock: no such file\)/);
    const r = await cli(['resolve', '--runtime', 'podman', row.running], noSocket);
    expect(r.stdout).to.equal(`${(await ownView(row)).pid}\n`);
    const stopped = await cli(['resolve', '--runtime', 'podman', row.stopped!], noSocket);
    expect(stopped.code).to.equal(5);
  });

  it('nerdctl: two containers with one name are E_AMBIGUOUS (made through containerd with its labels)', async () => {
    const image = 'docker.io/library/scope-lab-busybox:latest';
    const ids = ['scope-test-dup-1', 'scope-test-dup-2'];
    try {
      const label = ['--label', 'nerdctl/name=lab-dup'];
      for (const id of ids) tool('ctr', ['-n', 'default', 'containers', 'create', ...label, image, id, '/bin/true']);
      const r = await cli(['resolve', '--runtime', 'nerdctl', 'lab-dup', '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([4, 'E_AMBIGUOUS']);
    } finally {
      tool('ctr', ['-n', 'default', 'containers', 'rm', ...ids]);
    }
  });

  it('ctr looks in the namespace it is told, and a container is not found in another', async () => {
    const name = labRow('containerd - ctr').running;
    const r = await cli(['--namespace', 'scope-test-empty', 'resolve', '--runtime', 'ctr', name, '--json'], env);
    expect(json(r).error.code).to.equal('E_NOT_FOUND');
    expect(json(r).error.message).to.contain('namespace scope-test-empty');
  });

  it('--runtime auto finds a name only one runtime has', async () => {
    const row = labRow('lxc (LXD)');
    const r = await cli(['resolve', row.running], env);
    expect(r.stdout).to.equal(`${(await ownView(row)).pid}\n`);
  });
});
