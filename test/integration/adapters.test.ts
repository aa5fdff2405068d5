import { expect } from 'chai';
import { readlinkSync } from 'node:fs';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

/**
 * Every built-in adapter against its real daemon from the lab: the PID scope-engine resolves is the
 * one the runtime's own tool reports; unknown and stopped containers are distinct errors; exec runs
 * inside. The nerdctl cases run on containers made through containerd with nerdctl's labels, since
 * nerdctl is not packaged for these machines.
 */
interface Case {
  title: string;
  runtime: string;
  name: string;
  stopped: string;
  /** The PID as the runtime's own tool reports it. */
  nativePid: () => string;
  /** A reference by ID prefix, where the runtime has IDs. */
  idPrefix?: () => string;
}

const ctrTaskPid = (id: string) => {
  const line = tool('ctr', ['-n', 'default', 'task', 'ls']).split('\n').find((l) => l.split(/\s+/)[0] === id);
  return line!.split(/\s+/)[1];
};
const nerdId = () => tool('ctr', ['-n', 'default', 'containers', 'ls', '-q', 'labels."nerdctl/name"==lab-nerd']);

const CASES: Case[] = [
  { title: 'docker', runtime: 'docker', name: 'lab-web', stopped: 'lab-stopped',
    nativePid: () => tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web']),
    idPrefix: () => tool('docker', ['inspect', '-f', '{{.Id}}', 'lab-web']).slice(0, 8) },
  { title: 'podman', runtime: 'podman', name: 'lab-pod', stopped: 'lab-pod-stopped',
    nativePid: () => tool('podman', ['inspect', '-f', '{{.State.Pid}}', 'lab-pod']),
    idPrefix: () => tool('podman', ['inspect', '-f', '{{.Id}}', 'lab-pod']).slice(0, 8) },
  { title: 'podman with a user namespace', runtime: 'podman', name: 'lab-pod-userns', stopped: 'lab-pod-stopped',
    nativePid: () => tool('podman', ['inspect', '-f', '{{.State.Pid}}', 'lab-pod-userns']) },
  { title: 'ctr (containerd)', runtime: 'ctr', name: 'lab-ctr', stopped: 'lab-ctr-stopped', nativePid: () => ctrTaskPid('lab-ctr'),
    idPrefix: () => nerdId().slice(0, 10) },
  { title: 'nerdctl, on a container made through containerd with nerdctl\'s labels', runtime: 'nerdctl', name: 'lab-nerd',
    stopped: 'lab-nerd-stopped', nativePid: () => ctrTaskPid(nerdId()), idPrefix: () => nerdId().slice(0, 8) },
  { title: 'lxc (LXD)', runtime: 'lxc', name: 'lab-lxd', stopped: 'lab-lxd-stopped',
    nativePid: () => /PID:\s*(\d+)/.exec(tool('lxc', ['info', 'lab-lxd']))![1] },
  { title: 'lxc (classic LXC)', runtime: 'lxc', name: 'lab-lxc', stopped: 'lab-lxc-stopped',
    nativePid: () => tool('lxc-info', ['-n', 'lab-lxc', '-p', '-H']) },
];

const env = { SCOPE_ENGINE_PLUGINS: '' };

for (const c of CASES) {
  describe(`${c.title} (real daemon)`, function () {
    before(async function () {
      await requireRuntime(this, c.runtime);
    });

    it(`resolve --runtime ${c.runtime} ${c.name} prints the PID the runtime's own tool reports`, async () => {
      const r = await cli(['resolve', '--runtime', c.runtime, c.name], env);
      expect(r.stderr).to.equal('');
      expect(r.stdout).to.equal(`${c.nativePid()}\n`);
    });

    if (c.idPrefix) {
      it('resolves an ID prefix to the same PID', async () => {
        const r = await cli(['resolve', '--runtime', c.runtime, c.idPrefix!()], env);
        expect([r.code, r.stderr]).to.deep.equal([0, '']);
        expect(Number(r.stdout)).to.be.above(0);
      });
    }

    it('an unknown name is E_NOT_FOUND', async () => {
      const r = await cli(['resolve', '--runtime', c.runtime, 'no-such-container-here', '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([3, 'E_NOT_FOUND']);
    });

    if (c.stopped) {
      it(`a stopped container (${c.stopped}) is E_NOT_RUNNING`, async () => {
        const r = await cli(['resolve', '--runtime', c.runtime, c.stopped, '--json'], env);
        expect([r.code, json(r).error.code]).to.deep.equal([5, 'E_NOT_RUNNING']);
      });
    }

    it('exec runs a command inside, in the container\'s mount namespace', async () => {
      const pid = c.nativePid();
      const r = await cli(['exec', '--runtime', c.runtime, c.name, '--', 'readlink', '/proc/self/ns/mnt'], env);
      expect([r.code, r.stderr]).to.deep.equal([0, '']);
      expect(r.stdout.trim()).to.equal(readlinkSync(`/proc/${pid}/ns/mnt`));
    });

    it('ps lists it with its PID', async () => {
      const { containers } = json(await cli(['ps', '--runtime', c.runtime, '--json'], env));
      const mine = containers.find((x: any) => x.name === c.name);
      expect(mine).to.deep.include({ runtime: c.runtime, state: 'running', pid: Number(c.nativePid()) });
    });
  });
}

describe('every runtime at once (real daemons)', function () {
  before(async function () {
    for (const r of ['docker', 'podman', 'ctr', 'nerdctl', 'lxc']) await requireRuntime(this, r);
  });

  it('ps --runtime all lists every lab container', async () => {
    const r = json(await cli(['ps', '--runtime', 'all', '--json'], env));
    expect(r.unavailable).to.deep.equal([]);
    const names = r.containers.map((x: any) => `${x.runtime}/${x.name}`);
    for (const c of CASES) expect(names).to.include(`${c.runtime}/${c.name}`);
  });

  it('podman reports the user namespace\'s ID maps from libpod', async () => {
    const r = json(await cli(['resolve', '--runtime', 'podman', 'lab-pod-userns', '--json'], env));
    expect(r.idMappings.uid).to.deep.equal([{ inside: 0, outside: 100000, count: 65536 }]);
  });

  it('podman falls back to its command when no API socket listens, and says so', async () => {
    const noSocket = { ...env, CONTAINER_HOST: 'unix:///nonexistent/podman.sock' };
    const status = json(await cli(['runtimes', '--json'], noSocket)).find((s: any) => s.name === 'podman');
    expect(status.available).to.equal(true);
    expect(status.endpoint).to.match(/^podman CLI \(no API: socket \/nonexistent\/podman.sock: no such file\)/);
    const r = await cli(['resolve', '--runtime', 'podman', 'lab-pod'], noSocket);
    expect(r.stdout).to.equal(`${tool('podman', ['inspect', '-f', '{{.State.Pid}}', 'lab-pod'])}\n`);
    const stopped = await cli(['resolve', '--runtime', 'podman', 'lab-pod-stopped'], noSocket);
    expect(stopped.code).to.equal(5);
  });

  it('nerdctl: two containers with one name are E_AMBIGUOUS (made through containerd with nerdctl\'s labels)', async () => {
    const image = 'docker.io/library/scope-lab-busybox:latest';
    const ids = ['scope-test-dup-1', 'scope-test-dup-2'];
    try {
      for (const id of ids) tool('ctr', ['-n', 'default', 'containers', 'create', '--label', 'nerdctl/name=lab-dup', image, id, '/bin/true']);
      const r = await cli(['resolve', '--runtime', 'nerdctl', 'lab-dup', '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([4, 'E_AMBIGUOUS']);
    } finally {
      tool('ctr', ['-n', 'default', 'containers', 'rm', ...ids]);
    }
  });

  it('ctr looks in the namespace it is told, and a container is not found in another', async () => {
    const r = await cli(['--namespace', 'scope-test-empty', 'resolve', '--runtime', 'ctr', 'lab-ctr', '--json'], env);
    expect(json(r).error.code).to.equal('E_NOT_FOUND');
    expect(json(r).error.message).to.contain('namespace scope-test-empty');
  });

  it('--runtime auto finds a name only one runtime has', async () => {
    const r = await cli(['resolve', 'lab-lxd'], env);
    expect(r.stdout).to.equal(`${/PID:\s*(\d+)/.exec(tool('lxc', ['info', 'lab-lxd']))![1]}\n`);
  });
});
