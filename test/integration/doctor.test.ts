import { expect } from 'chai';
import { readFileSync, readlinkSync } from 'node:fs';
import { setTimeout as sleepMs } from 'node:timers/promises';
import { cli, cliUnder as under, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

interface Check { id: string; status: 'ok' | 'warn' | 'fail'; summary: string; fix: string | null }
interface Report {
  engine: { euid: number; hostPidNamespace: boolean; status: Record<string, unknown> };
  target: null | {
    pid: number;
    status: Record<string, unknown>;
    trial: null | Record<'ptrace' | 'process_vm_readv', { ok: boolean; errno: string }>;
  };
  checks: Check[];
}

const env = { SCOPE_ENGINE_PLUGINS: '' };
const byId = (r: Report, id: string) => r.checks.find((c) => c.id === id)!;
const readlinkOr = (path: string) => {
  try {
    return readlinkSync(path);
  } catch {
    return '';
  }
};
const field = (status: string, key: string) => new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(status)?.[1];

const cliUnder = (prefix: string[], args: string[]) => under(prefix, args, env);

describe('doctor (real docker and podman)', function () {
  before(async function () {
    await requireRuntime(this, 'docker');
  });

  it('without a container, reports the engine: every check ok for root on the host', async () => {
    const r = await cli(['doctor', '--json'], env);
    const report = json<Report>(r);
    expect(report.checks.map((c) => c.id)).to.deep.equal(['pid-namespace', 'host-root', 'runtime', 'capabilities']);
    expect(report.checks.filter((c) => c.status !== 'ok'), r.stdout).to.deep.equal([]);
    expect(report.engine.status.CapEff).to.equal(field(readFileSync('/proc/self/status', 'utf8'), 'CapEff'));
    expect([r.code, report.target]).to.deep.equal([0, null]);
  });

  // Each of the docker options, and the default: the status lines exactly as the kernel has
  // them, and every verdict what the probe really got inside (--try says so in the check).
  for (const name of ['lab-web', 'lab-app', 'lab-ptrace', 'lab-unconfined', 'lab-nnp', 'lab-nocaps']) {
    it(`${name}: /proc/PID/status as it is, and verdicts that the probe confirms`, async () => {
      const r = await cli(['doctor', '--json', '--try', '-r', 'docker', name], env);
      const report = json<Report>(r);
      const t = report.target!;
      const pid = Number(tool('docker', ['inspect', '-f', '{{.State.Pid}}', name]));
      const status = readFileSync(`/proc/${pid}/status`, 'utf8');
      expect(t.pid).to.equal(pid);
      const keys = ['Seccomp', 'Seccomp_filters', 'NoNewPrivs', 'TracerPid', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd',
        'CapAmb'];
      expect(keys.map((k) => String(t.status[k]))).to.deep.equal(keys.map((k) => field(status, k)));
      for (const call of ['ptrace', 'process_vm_readv'] as const) {
        const check = byId(report, call);
        expect(check.status !== 'fail', `${call}: ${check.summary}`).to.equal(t.trial![call].ok);
      }
    });
  }

  it('follows the article: docker\'s default blocks process_vm_readv, --cap-add SYS_PTRACE opens it', async () => {
    const plain = json<Report>(await cli(['doctor', '--json', '-r', 'docker', 'lab-web'], env));
    const pvr = byId(plain, 'process_vm_readv');
    expect(pvr.status).to.equal('fail');
    expect(pvr.summary).to.match(/seccomp.*EPERM/);
    expect(pvr.fix).to.contain('--cap-add SYS_PTRACE');
    expect(byId(plain, 'ptrace').status).to.equal('ok');
    const added = json<Report>(await cli(['doctor', '--json', '-r', 'docker', 'lab-ptrace'], env));
    expect(['ptrace', 'process_vm_readv'].map((id) => byId(added, id).status)).to.deep.equal(['ok', 'ok']);
  });

  it('an unknown container is a failed target check, exit 1, with the code', async () => {
    const r = await cli(['doctor', '--json', '-r', 'docker', 'scope-engine-no-such-container'], env);
    const target = byId(json<Report>(r), 'target');
    expect([r.code, target.status]).to.deep.equal([1, 'fail']);
    expect(target.summary).to.match(/^E_NOT_FOUND: /);
  });

  it('a container running its own program named runsc is no sandbox: doctor and exec are not fooled', async () => {
    const name = `scope-doctor-fake-runsc-${process.pid}`;
    tool('docker', ['run', '-d', '--name', name, '--network', 'none', 'scope-lab-busybox', 'sh', '-c',
      'mkdir -p /usr/bin && cp /bin/busybox /usr/bin/runsc && exec -a sleep /usr/bin/runsc 1000000']);
    try {
      const pid = Number(tool('docker', ['inspect', '-f', '{{.State.Pid}}', name]));
      // Wait for the exec: until then PID 1 is the shell.
      for (let i = 0; i < 100 && !/runsc$/.test(readlinkOr(`/proc/${pid}/exe`)); i++) await sleepMs(20);
      expect(readlinkOr(`/proc/${pid}/exe`)).to.equal('/usr/bin/runsc');
      const sandbox = byId(json<Report>(await cli(['doctor', '--json', '-r', 'docker', name], env)), 'sandbox');
      expect(sandbox.status, sandbox.summary).to.equal('ok');
      const r = await cli(['exec', '-r', 'docker', name, '--', 'true'], env);
      expect([r.code, r.stderr]).to.deep.equal([0, '']);
    } finally {
      tool('docker', ['rm', '-f', name]);
    }
  });

  describe('a gVisor container (podman with runsc)', function () {
    before(async function () {
      await requireRuntime(this, 'podman');
    });

    it('fails the sandbox check naming gVisor, and every command that acts is E_UNSUPPORTED', async () => {
      const r = await cli(['doctor', '--json', '-r', 'podman', 'lab-gvisor'], env);
      const sandbox = byId(json<Report>(r), 'sandbox');
      expect([r.code, sandbox.status]).to.deep.equal([1, 'fail']);
      expect(sandbox.summary).to.contain('gVisor').and.to.contain('/usr/bin/runsc');
      for (const args of [['exec', 'lab-gvisor', '--', 'true'], ['run', '-d', 'lab-gvisor'],
        ['cp', '/etc/hostname', 'lab-gvisor:/tmp/scope-engine-doctor']]) {
        const refused = await cli([args[0], '-r', 'podman', ...args.slice(1)], env);
        expect([refused.code, refused.stderr], args.join(' ')).to.satisfy(([code, err]: [number, string]) =>
          code === 15 && err.includes('E_UNSUPPORTED') && err.includes('gVisor'));
      }
      // Nothing was made inside: the runtime's own exec, which reaches into the sandbox, finds nothing.
      expect(tool('podman', ['exec', 'lab-gvisor', 'sh', '-c', 'for p in /usr/lib/scope-engine /tmp/scope-engine ' +
        '/dev/shm/scope-engine /tmp/scope-engine-doctor; do test -e $p && echo $p; done; true'])).to.equal('');
    });
  });

  describe('an engine that lacks a capability says which', function () {
    it('without CAP_SYS_CHROOT: the check names it and the commands it breaks; exec names it', async () => {
      const drop = ['setpriv', '--bounding-set', '-sys_chroot'];
      const report = json<Report>(await cliUnder(drop, ['doctor', '--json']));
      const caps = byId(report, 'capabilities');
      expect(caps.status).to.equal('fail');
      expect(caps.summary).to.contain('CAP_SYS_CHROOT').and.to.contain('exec, run, cp');
      const r = await cliUnder(drop, ['exec', '-r', 'docker', 'lab-web', '--', 'true']);
      expect(r.code).to.not.equal(0);
      expect(r.stderr).to.contain('lacks CAP_SYS_CHROOT');
    });

    it('without CAP_SYS_PTRACE: opening another user\'s process says so, not "run as root"', async () => {
      const r = await cliUnder(['setpriv', '--bounding-set', '-sys_ptrace'], ['exec', '-r', 'docker', 'lab-app',
        '--', 'true']);
      expect(r.code).to.equal(7);
      expect(r.stderr).to.contain('lacks CAP_SYS_PTRACE').and.not.to.contain('run as root');
    });

    it('in a PID namespace of its own: the pid-namespace check fails and the target is not looked at', async () => {
      const r = await cliUnder(['unshare', '--pid', '--fork', '--mount-proc'], ['doctor', '--json', '-r', 'docker',
        'lab-web']);
      const report = json<Report>(r);
      expect([r.code, byId(report, 'pid-namespace').status, byId(report, 'target').status])
        .to.deep.equal([1, 'fail', 'fail']);
      expect(report.target).to.equal(null);
    });
  });
});
