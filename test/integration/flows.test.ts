import { expect } from 'chai';
import { existsSync, readFileSync, statSync } from 'node:fs';
import type { LabRow } from '../../testing/context';
import { cli, json } from '../support/cli';
import { labRow, labRows, requireRuntime } from '../support/lab';
import { untilChanged } from '../support/wait';

/**
 * The scope flows on every lab runtime (the lab file's rows): run installs the payload owned by the
 * target's user, the probe reports on the target, detach stops it (the probe removed the dconf
 * file), reattach resumes, ipc status answers, a second run reuses the install, and a container
 * with no shell works. Files are checked from the host through /proc/PID/root, so the check does
 * not use the code under test; waits end on the change they wait for (inotify on the install).
 */
const env = { SCOPE_ENGINE_PLUGINS: '' };
const PERIOD = ['-e', 'SCOPE_PROBE_PERIOD_MS=100'];
/** The probe's loop step (STEP_MS in native/src/probe.c): it reads one IPC request a step. */
const PROBE_STEP_MS = 50;

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

async function status(row: LabRow): Promise<{ attached: boolean; reports: number; period_ms: number; pid: number }> {
  const r = json(await cli(['--json', 'ipc', '--runtime', row.runtime, row.running, 'status'], env));
  expect(r.status).to.equal(200);
  return r.data;
}

for (const row of labRows()) {
  describe(`scope flows on ${row.label} (real daemon)`, function () {
    let pid: number;
    let started: any;
    let report: string;
    /** The install directory, from the host: its changes are the events the waits end on. */
    let dir: string;

    before(async function () {
      await requireRuntime(this, row.runtime);
      await reset(row.runtime, row.running);
      pid = await hostPid(row.runtime, row.running);
    });
    after(async () => {
      if (pid) await reset(row.runtime, row.running);
    });

    it('run installs the payload owned by the target\'s user, mapped through its uid_map', async () => {
      const r = await cli(['--json', 'run', '--detach', '--runtime', row.runtime, row.running, ...PERIOD], env);
      expect(r.code, r.stderr).to.equal(0);
      started = json(r);
      expect(started.install.reused).to.equal(false);
      expect(started.install.dir).to.equal('/usr/lib/scope-engine/0.1.0');
      expect(row.hostRoot, 'the lab file gives the host ID of its root (hostRoot)').to.be.a('number');
      dir = `/proc/${pid}/root${started.install.dir}`;
      const st = statSync(`${dir}/scope-probe`);
      expect([st.uid, st.gid, st.mode & 0o777]).to.deep.equal([row.hostRoot, row.hostRoot, 0o755]);
      report = `${started.install.dir}/scope-probe.${started.target.nsPid}.jsonl`;
    });

    it('the probe reports on the target from inside its PID namespace', async () => {
      await untilChanged(dir, 5000, 'two reports', () => reportLines(pid, report).length >= 2);
      const line = JSON.parse(reportLines(pid, report)[0]);
      expect(line).to.deep.include({ pid: started.target.nsPid, comm: 'sleep' });
      expect(line.fds).to.be.a('number');
    });

    it('detach stops the reports; the probe read and removed the dconf file', async () => {
      const r = await cli(['detach', '--runtime', row.runtime, row.running], env);
      expect(r.code, r.stderr).to.equal(0);
      expect(existsSync(`/proc/${pid}/root/dev/shm/scope_dconf.${started.target.nsPid}`)).to.equal(false);
      // That no report follows is shown by the probe's own steps, not by a while without one: it
      // reads one IPC request a step, so answers to requests sent one after another come from
      // steps of their own, and the first and last of `asks` answers are asks-1 steps apart. An
      // attached probe reports every period_ms/PROBE_STEP_MS steps: this spans two periods.
      const first = await status(row);
      expect(first.attached).to.equal(false);
      const asks = (2 * first.period_ms) / PROBE_STEP_MS + 1;
      for (let i = 1; i < asks; i++) {
        expect(await status(row)).to.deep.include({ attached: false, reports: first.reports });
      }
      expect(reportLines(pid, report)).to.have.length(first.reports);
    });

    it('ipc status answers over the message queues, saying it is detached', async () => {
      expect(await status(row)).to.deep.include({ probe: 'scope-probe', pid: started.target.nsPid, attached: false });
    });

    it('reattach resumes the reports', async () => {
      const before = reportLines(pid, report).length;
      expect((await cli(['reattach', '--runtime', row.runtime, row.running], env)).code).to.equal(0);
      await untilChanged(dir, 5000, 'a new report', () => reportLines(pid, report).length > before);
    });

    it('a second run refuses while the probe runs; stop --keep ends it, and a run reuses the install', async () => {
      const again = await cli(['run', '--detach', '--runtime', row.runtime, row.running], env);
      expect(again.code).to.equal(18);
      // stop returns once the loader it signalled has ended (it watches it through a pidfd).
      const stop = await cli(['stop', '--keep', '--runtime', row.runtime, row.running], env);
      expect(stop.code, stop.stderr).to.equal(0);
      expect(existsSync(`/proc/${started.loader.pid}`)).to.equal(false);
      const r = json(await cli(['--json', 'run', '--detach', '--runtime', row.runtime, row.running, ...PERIOD], env));
      expect(r.install.reused).to.equal(true);
    });

    if (row.noshell) it(`a container with no shell works (${row.noshell})`, async () => {
      const noshell = row.noshell!;
      await reset(row.runtime, noshell);
      const r = await cli(['--json', 'run', '--detach', '--runtime', row.runtime, noshell, ...PERIOD], env);
      expect(r.code, r.stderr).to.equal(0);
      try {
        const s = json(await cli(['--json', 'ipc', '--runtime', row.runtime, noshell, 'status'], env));
        expect(s.data).to.deep.include({ attached: true, pid: json(r).target.nsPid });
      } finally {
        await reset(row.runtime, noshell);
      }
    });
  });
}

describe('run in the foreground (real docker)', function () {
  const app = labRow('docker').nonroot!;

  before(async function () {
    await requireRuntime(this, 'docker');
    await reset('docker', app);
  });
  after(() => reset('docker', app));

  it('streams the probe\'s reports and ends with it; a non-root target gets its install in /tmp', async () => {
    const r = await cli(['--json', 'run', '--runtime', 'docker', app, '--', '{install}/scope-probe', '--pid', '{pid}',
      '--dir', '{install}', '--period-ms', '100', '--count', '3'], env);
    expect(r.code, r.stderr).to.equal(0);
    const [first, ...reports] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(first).to.deep.include({ event: 'started', container: app });
    expect(first.install.dir).to.equal('/tmp/scope-engine/0.1.0');
    expect(first.target.uid).to.equal(1000);
    expect(reports).to.have.length(3);
    expect(reports[0]).to.deep.include({ comm: 'sleep', pid: first.target.nsPid });
    const pid = await hostPid('docker', app);
    expect(statSync(`/proc/${pid}/root/tmp/scope-engine/0.1.0/scope-probe`).uid).to.equal(1000);
  });

  it('the probe rotates its report past --max-bytes, keeping one older file', async () => {
    await reset('docker', app);
    // A report line is about 200 bytes: 30 of them rotate the file a few times.
    const r = await cli(['--json', 'run', '--runtime', 'docker', app, '--', '{install}/scope-probe', '--pid', '{pid}',
      '--dir', '{install}', '--period-ms', '50', '--count', '30', '--max-bytes', '1500'], env);
    expect(r.code, r.stderr).to.equal(0);
    const [first, ...streamed] = r.stdout.trim().split('\n').map((l) => JSON.parse(l));
    const root = `/proc/${await hostPid('docker', app)}/root`;
    const report = `${root}${first.install.dir}/scope-probe.${first.target.nsPid}.jsonl`;
    const lines = (path: string) => readFileSync(path, 'utf8').trim().split('\n').map((l) => JSON.parse(l));
    const [current, older] = [lines(report), lines(`${report}.1`)];
    expect(statSync(report).size).to.be.at.most(1500);
    expect(statSync(`${report}.1`).size).to.be.at.most(1500);
    // The newest reports, in order, end the current file; the oldest are gone.
    expect([...older, ...current]).to.deep.equal(streamed.slice(-current.length - older.length));
    expect(current.length + older.length).to.be.below(streamed.length);
  });
});
