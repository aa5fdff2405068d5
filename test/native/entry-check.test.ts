import { expect } from 'chai';
import type { Context } from 'mocha';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { checkInTarget, execInTarget, spawnInTarget, type EntryCheck } from '../../native/exec';
import { execHelperPath, traceProbePath } from '../../native/index';
import { Target } from '../../native/target';
import { startBare, type BareContainer } from '../support/bare';
import { labRow, ownView, requireRuntime } from '../support/lab';

/** What scope-trace-probe prints: the real outcome of each call it tried on the container's PID 1. */
interface ProbeOutcome {
  pid: number;
  process_vm_readv: { ok: boolean; errno: string };
  ptrace: { ok: boolean; errno: string };
}

const ALLOWED = { ptrace: 'allow', process_vm_readv: 'allow', process_vm_writev: 'allow', kcmp: 'allow' };
/** Docker's default profile: ptrace allowed (kernel 4.8+), its relatives only with CAP_SYS_PTRACE, else EPERM. */
const DOCKER_DEFAULT = { ptrace: 'allow', process_vm_readv: 'errno:1', process_vm_writev: 'errno:1', kcmp: 'errno:1' };
/** Podman's (containers-common's): process_vm_readv and writev allowed too, kcmp only with CAP_SYS_PTRACE. */
const PODMAN_DEFAULT = { ptrace: 'allow', process_vm_readv: 'allow', process_vm_writev: 'allow', kcmp: 'errno:1' };
const OK = { ok: true, errno: '' };
const EPERM = { ok: false, errno: 'EPERM' };

/** OCI's default capabilities: what runc gives a container (ctr's, docker's) without --cap-add. */
const OCI_CAPS = ['chown', 'dac_override', 'fsetid', 'fowner', 'mknod', 'net_raw', 'setgid', 'setuid', 'setfcap',
  'setpcap', 'net_bind_service', 'sys_chroot', 'kill', 'audit_write'];

/** Where a payload is looked at: the target's PID, and how to end what was made for it. */
interface Place {
  pid: number;
  stop?(): Promise<void>;
}

/** A lab container (test/lab), found as its runtime's own tools say; skipped when the runtime is not up. */
function lab(label: string, name: string): (ctx: Context) => Promise<Place> {
  return async (ctx) => {
    const row = labRow(label);
    await requireRuntime(ctx, row.runtime);
    return { pid: (await ownView(row, name)).pid };
  };
}

/**
 * What lab-ctr is, made with unshare so that the case runs without a runtime: root with OCI's
 * capabilities, no_new_privs, no seccomp filter, in a pids cgroup of its own (cgroup v1).
 */
async function ctrStandIn(ctx: Context): Promise<Place> {
  if (!existsSync('/sys/fs/cgroup/pids')) ctx.skip();
  const bare = await startBare('plain', { confine: ['/usr/bin/setpriv', '--no-new-privs', '--inh-caps=-all',
    `--bounding-set=-all,${OCI_CAPS.map((c) => `+${c}`).join(',')}`, '--'] });
  const pids = join('/sys/fs/cgroup/pids', `scope-test-${randomBytes(4).toString('hex')}`);
  mkdirSync(pids);
  writeFileSync(join(pids, 'cgroup.procs'), String(bare.pid));
  return {
    pid: bare.pid,
    async stop() {
      await bare.stop();
      rmdirSync(pids);
    },
  };
}

/**
 * Targets, with what a payload meets in each: the check's verdicts and the probe's outcome, each seen on
 * the lab before it was written here.
 */
const PLACES = [
  { name: 'lab-web (docker)', open: lab('docker', 'lab-web'),
    check: { source: 'live', filters: 1, syscalls: DOCKER_DEFAULT }, probe: { process_vm_readv: EPERM, ptrace: OK } },
  { name: 'lab-app (docker, user 1000)', open: lab('docker', 'lab-app'),
    check: { source: 'live', filters: 1, syscalls: DOCKER_DEFAULT }, probe: { process_vm_readv: EPERM, ptrace: OK } },
  { name: 'lab-pod (podman)', open: lab('podman', 'lab-pod'),
    check: { source: 'live', filters: 1, syscalls: PODMAN_DEFAULT }, probe: { process_vm_readv: OK, ptrace: OK } },
  // ctr runs it with no seccomp filter at all (and no_new_privs).
  { name: 'lab-ctr (containerd - ctr)', open: lab('containerd - ctr', 'lab-ctr'),
    check: { source: 'none', filters: 0, syscalls: ALLOWED }, probe: { process_vm_readv: OK, ptrace: OK } },
  { name: 'a stand-in for lab-ctr (unshare-made)', open: ctrStandIn,
    check: { source: 'none', filters: 0, syscalls: ALLOWED }, probe: { process_vm_readv: OK, ptrace: OK } },
] as const;

/** The target's cgroups where the engine is not: the ones a program started there would be moved into. */
function foreignCgroups(pid: number): string[] {
  const own = readFileSync('/proc/self/cgroup', 'utf8').split('\n');
  return readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n').filter((l) => l && !own.includes(l));
}

/** The processes in the target's container: its pids cgroup (cgroup v1), or its one cgroup (v2). */
function containerProcs(pid: number): string {
  const lines = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n');
  const v1 = lines.find((l) => l.split(':')[1] === 'pids');
  const dir = v1 ? join('/sys/fs/cgroup/pids', v1.split(':')[2]) : join('/sys/fs/cgroup', lines[0].split(':')[2]);
  return readFileSync(join(dir, 'cgroup.procs'), 'utf8');
}

function openFds(): string[] {
  return readdirSync('/proc/self/fd').flatMap((fd) => {
    try {
      return [`${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`];
    } catch {
      return []; // closed while listing
    }
  });
}

function children(): string[] {
  return readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(' ').filter(Boolean));
}

for (const c of PLACES) {
  describe(`what a payload would meet in ${c.name}, said without starting one, and tried`, () => {
    let place: Place | undefined;
    let target: Target;
    let check: EntryCheck;
    before(async function () {
      place = await c.open(this);
      target = Target.open(place.pid);
      check = await checkInTarget(target);
    });
    after(async () => {
      target?.close();
      await place?.stop?.();
    });

    it(`the check reads the filters (${c.check.source}) and gives the verdicts of the runtime's profile`, () => {
      expect(check).to.deep.equal({ ...c.check, cgroups: foreignCgroups(target.pid).length });
    });

    it('scope-trace-probe, run inside as a payload is, meets what the check predicted', async () => {
      const r = await execInTarget(target, { argv: [traceProbePath(), String(target.nsPid)], hostBinary: true });
      expect([r.code, r.stderr]).to.deep.equal([0, '']);
      const probe = JSON.parse(r.stdout) as ProbeOutcome;
      expect(probe).to.deep.equal({ pid: target.nsPid, ...c.probe });
      // What the filters allow, the probe could do: nothing else in these containers stands in the way.
      expect(probe.ptrace.ok).to.equal(check.syscalls.ptrace === 'allow');
      expect(probe.process_vm_readv.ok).to.equal(check.syscalls.process_vm_readv === 'allow');
    });

    it('with privileged a payload would meet no filter', async () => {
      expect(await checkInTarget(target, { privileged: true })).to.deep.include({ source: 'none', filters: 0,
        syscalls: ALLOWED });
    });

    it('the check starts nothing in the container and leaves no process or descriptor behind', async () => {
      await checkInTarget(target); // warm: lazily opened descriptors (the addon's, libuv's) count in the baseline
      const [procs, fds, kids] = [containerProcs(target.pid), openFds(), children()];
      for (let i = 0; i < 20; i++) await checkInTarget(target);
      expect(containerProcs(target.pid)).to.equal(procs);
      expect(openFds().filter((d) => !fds.includes(d))).to.deep.equal([]);
      expect(children()).to.deep.equal(kids);
      // The control: a program that is started does show among the container's processes.
      const p = spawnInTarget(target, { argv: ['sleep', '30'] });
      try {
        const pid = await p.started;
        expect(containerProcs(target.pid).split('\n')).to.include(String(pid));
      } finally {
        p.child.kill('SIGTERM');
        await p.exited.catch(() => undefined);
      }
    });
  });
}

describe('checkInTarget fails as spawnInTarget does (unshare-made targets)', () => {
  let sleeper: ChildProcess | undefined;
  afterEach(() => {
    sleeper?.kill('SIGKILL');
    sleeper = undefined;
  });

  /** A process of our own that has ended (and been reaped) after it was pinned. */
  async function goneTarget(): Promise<Target> {
    sleeper = spawn('sleep', ['1000'], { stdio: 'ignore' });
    const t = Target.open(sleeper.pid!);
    sleeper.kill('SIGKILL');
    await new Promise((r) => sleeper!.once('exit', r));
    return t;
  }

  it('a target that is gone is E_TARGET_GONE', async () => {
    const t = await goneTarget();
    try {
      const err = await checkInTarget(t).catch((e) => e);
      expect(err.code).to.equal('E_TARGET_GONE');
    } finally {
      t.close();
    }
  });

  it('the helper itself says "target" when the target ends before it has read it, not which file went with it',
    async () => {
      const t = await goneTarget();
      try {
        const args = ['--check', '--pidfd', '3', '--pid', String(t.pid), '--report-fd', '4'];
        const helper = spawn(execHelperPath(), args, { stdio: ['ignore', 'ignore', 'pipe', t.pidfd, 'pipe'] });
        const lines: string[] = [];
        createInterface({ input: helper.stdio[4] as NodeJS.ReadableStream }).on('line', (l) => lines.push(l));
        const code = await new Promise((r) => helper.once('close', r));
        expect([code, lines.map((l) => JSON.parse(l)).map((e) => [e.event, e.stage, e.code])])
          .to.deep.equal([125, [['error', 'target', 'ESRCH']]]);
      } finally {
        t.close();
      }
    });

  it('--check runs no program: one given is a usage error', () => {
    const r = spawnSync(execHelperPath(), ['--check', '--pidfd', '0', '--pid', '1', '--', 'true'],
      { encoding: 'utf8' });
    expect([r.status, r.stderr.split('\n')[0]]).to.deep.equal([2, 'scope-exec: --check runs no program']);
  });

  describe('a paused target', function () {
    if (!existsSync('/sys/fs/cgroup/freezer')) return; // cgroup v1's freezer, as on the lab machines
    let bare: BareContainer;
    let t: Target;
    const freezer = join('/sys/fs/cgroup/freezer', `scope-test-${randomBytes(4).toString('hex')}`);
    before(async () => {
      bare = await startBare('plain');
      mkdirSync(freezer);
      writeFileSync(join(freezer, 'cgroup.procs'), String(bare.pid));
      t = Target.open(bare.pid);
      writeFileSync(join(freezer, 'freezer.state'), 'FROZEN');
    });
    after(async () => {
      if (existsSync(freezer)) writeFileSync(join(freezer, 'freezer.state'), 'THAWED');
      t?.close();
      await bare?.stop();
      if (existsSync(freezer)) rmdirSync(freezer);
    });

    it('is refused by the check with the error exec gives, E_NOT_RUNNING', async () => {
      const checked = await checkInTarget(t).catch((e) => e);
      const execed = await execInTarget(t, { argv: ['true'] }).catch((e) => e);
      expect([checked.code, checked.message]).to.deep.equal([execed.code, execed.message]);
      expect(checked.code).to.equal('E_NOT_RUNNING');
    });
  });
});
