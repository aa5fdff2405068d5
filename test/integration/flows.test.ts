import { expect } from 'chai';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { cli, json } from '../support/cli';
import { requireRuntime } from '../support/lab';

/**
 * The scope flows on every lab runtime: run installs the payload owned by the target's user, the
 * probe reports on the target, detach stops it (the probe removed the dconf file), reattach resumes,
 * ipc status answers, a second run reuses the install, and a container with no shell works.
 * Files are checked from the host through /proc/PID/root, so the check does not use the code under test.
 */
interface Case {
  title: string;
  runtime: string;
  name: string;
  noshell: string;
  /** The host ID of the container's root. */
  hostRoot: number;
}

const CASES: Case[] = [
  { title: 'docker', runtime: 'docker', name: 'lab-web', noshell: 'lab-noshell', hostRoot: 0 },
  { title: 'podman', runtime: 'podman', name: 'lab-pod', noshell: 'lab-pod-noshell', hostRoot: 0 },
  { title: 'podman with a user namespace', runtime: 'podman', name: 'lab-pod-userns', noshell: 'lab-pod-noshell', hostRoot: 100000 },
  { title: 'ctr (containerd)', runtime: 'ctr', name: 'lab-ctr', noshell: 'lab-ctr-noshell', hostRoot: 0 },
  { title: 'nerdctl, on containers made through containerd with nerdctl\'s labels', runtime: 'nerdctl', name: 'lab-nerd', noshell: 'lab-nerd-noshell', hostRoot: 0 },
  { title: 'lxc (classic LXC)', runtime: 'lxc', name: 'lab-lxc', noshell: 'lab-lxc-noshell', hostRoot: 0 },
  { title: 'lxc (LXD, unprivileged)', runtime: 'lxc', name: 'lab-lxd', noshell: 'lab-lxd-noshell', hostRoot: 100000 },
];

const env = { SCOPE_ENGINE_PLUGINS: '' };
const PERIOD = ['-e', 'SCOPE_PROBE_PERIOD_MS=100'];
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function hostPid(runtime: string, name: string): Promise<number> {
  return Number((await cli(['resolve', '--runtime', runtime, name], env)).stdout);
}

/** No probe and no install left from an earlier run: stop ends our loaders (never by name), then rm the rest. */
async function reset(runtime: string, name: string): Promise<void> {
  await cli(['stop', '--runtime', runtime, '--all', name], env);
  await cli(['exec', '--runtime', runtime, name, '--host-binary', '--', '/bin/busybox', 'sh', '-c',
    'rm -rf /usr/lib/scope-engine /tmp/scope-engine /dev/shm/scope-engine /dev/shm/scope_dconf.*'], env);
}

function reportLines(pid: number, file: string): string[] {
  try {
    return readFileSync(`/proc/${pid}/root${file}`, 'utf8').split('\n').filter(Boolean);
  } catch {
    return [];
  }
}

async function waitFor(what: string, ms: number, check: () => boolean): Promise<void> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return;
    await sleep(50);
  }
  throw new Error(`timed out waiting for ${what}`);
}

for (const c of CASES) {
  describe(`scope flows on ${c.title} (real daemon)`, function () {
    let pid: number;
    let started: any;
    let report: string;

    before(async function () {
      await requireRuntime(this, c.runtime);
      await reset(c.runtime, c.name);
      pid = await hostPid(c.runtime, c.name);
    });
    after(async () => {
      if (pid) await reset(c.runtime, c.name);
    });

    it('run installs the payload owned by the target\'s user, mapped through its uid_map', async () => {
      const r = await cli(['--json', 'run', '--detach', '--runtime', c.runtime, c.name, ...PERIOD], env);
      expect(r.code, r.stderr).to.equal(0);
      started = json(r);
      expect(started.install.reused).to.equal(false);
      expect(started.install.dir).to.equal('/usr/lib/scope-engine/0.1.0');
      const st = statSync(`/proc/${pid}/root${started.install.dir}/scope-probe`);
      expect([st.uid, st.gid, st.mode & 0o777]).to.deep.equal([c.hostRoot, c.hostRoot, 0o755]);
      report = `${started.install.dir}/scope-probe.${started.target.nsPid}.jsonl`;
    });

    it('the probe reports on the target from inside its PID namespace', async () => {
      await waitFor('two reports', 5000, () => reportLines(pid, report).length >= 2);
      const line = JSON.parse(reportLines(pid, report)[0]);
      expect(line).to.deep.include({ pid: started.target.nsPid, comm: 'sleep' });
      expect(line.fds).to.be.a('number');
    });

    it('detach stops the reports; the probe read and removed the dconf file', async () => {
      const r = await cli(['detach', '--runtime', c.runtime, c.name], env);
      expect(r.code, r.stderr).to.equal(0);
      expect(existsSync(`/proc/${pid}/root/dev/shm/scope_dconf.${started.target.nsPid}`)).to.equal(false);
      const before = reportLines(pid, report).length;
      await sleep(500);
      expect(reportLines(pid, report).length).to.equal(before);
    });

    it('ipc status answers over the message queues, saying it is detached', async () => {
      const r = json(await cli(['--json', 'ipc', '--runtime', c.runtime, c.name, 'status'], env));
      expect(r.status).to.equal(200);
      expect(r.data).to.deep.include({ probe: 'scope-probe', pid: started.target.nsPid, attached: false });
    });

    it('reattach resumes the reports', async () => {
      const before = reportLines(pid, report).length;
      expect((await cli(['reattach', '--runtime', c.runtime, c.name], env)).code).to.equal(0);
      await waitFor('new reports', 5000, () => reportLines(pid, report).length > before);
    });

    it('a second run refuses while the probe runs, and reuses the install once it is gone', async () => {
      const again = await cli(['run', '--detach', '--runtime', c.runtime, c.name], env);
      expect(again.code).to.equal(18);
      process.kill(started.loader.pid, 'SIGTERM');
      await waitFor('the probe to exit', 5000, () => !existsSync(`/proc/${started.loader.pid}`));
      const r = json(await cli(['--json', 'run', '--detach', '--runtime', c.runtime, c.name, ...PERIOD], env));
      expect(r.install.reused).to.equal(true);
      process.kill(r.loader.pid, 'SIGTERM');
    });

    it(`a container with no shell works (${c.noshell})`, async () => {
      await reset(c.runtime, c.noshell);
      const r = await cli(['--json', 'run', '--detach', '--runtime', c.runtime, c.noshell, ...PERIOD], env);
      expect(r.code, r.stderr).to.equal(0);
      const s = json(r);
      try {
        const status = json(await cli(['--json', 'ipc', '--runtime', c.runtime, c.noshell, 'status'], env));
        expect(status.data).to.deep.include({ attached: true, pid: s.target.nsPid });
      } finally {
        process.kill(s.loader.pid, 'SIGTERM');
        await reset(c.runtime, c.noshell);
      }
    });
  });
}

describe('run in the foreground (real docker)', function () {
  before(async function () {
    await requireRuntime(this, 'docker');
    await reset('docker', 'lab-app');
  });
  after(() => reset('docker', 'lab-app'));

  it('streams the probe\'s reports and ends with it; a non-root target gets its install in /tmp', async () => {
    const r = await cli(['--json', 'run', '--runtime', 'docker', 'lab-app', '--', '{install}/scope-probe', '--pid', '{pid}',
      '--dir', '{install}', '--period-ms', '100', '--count', '3'], env);
    expect(r.code, r.stderr).to.equal(0);
    const [first, ...reports] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(first).to.deep.include({ event: 'started', container: 'lab-app' });
    expect(first.install.dir).to.equal('/tmp/scope-engine/0.1.0');
    expect(first.target.uid).to.equal(1000);
    expect(reports).to.have.length(3);
    expect(reports[0]).to.deep.include({ comm: 'sleep', pid: first.target.nsPid });
    const pid = await hostPid('docker', 'lab-app');
    expect(statSync(`/proc/${pid}/root/tmp/scope-engine/0.1.0/scope-probe`).uid).to.equal(1000);
  });

  it('the probe rotates its report past --max-bytes, keeping one older file', async () => {
    await reset('docker', 'lab-app');
    // A report line is about 200 bytes: 30 of them rotate the file a few times.
    const r = await cli(['--json', 'run', '--runtime', 'docker', 'lab-app', '--', '{install}/scope-probe', '--pid', '{pid}',
      '--dir', '{install}', '--period-ms', '50', '--count', '30', '--max-bytes', '1500'], env);
    expect(r.code, r.stderr).to.equal(0);
    const [first, ...streamed] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const report = `/proc/${await hostPid('docker', 'lab-app')}/root${first.install.dir}/scope-probe.${first.target.nsPid}.jsonl`;
    const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [current, older] = [lines(report), lines(`${report}.1`)];
    expect(statSync(report).size).to.be.at.most(1500);
    expect(statSync(`${report}.1`).size).to.be.at.most(1500);
    // The newest reports, in order, end the current file; the oldest are gone.
    expect([...older, ...current]).to.deep.equal(streamed.slice(-current.length - older.length));
    expect(current.length + older.length).to.be.below(streamed.length);
  });
});
