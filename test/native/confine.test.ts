import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, rmdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { execInTarget, spawnInTarget } from '../../native/exec';
import { execHelperPath } from '../../native/index';
import { Target } from '../../native/target';
import { startBare, type BareContainer } from '../support/bare';

/** Fields of a /proc/PID/status text. */
function status(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes(':'))
    .map((l) => [l.slice(0, l.indexOf(':')), l.slice(l.indexOf(':') + 1).trim()]));
}

/** The ELF program interpreter (PT_INTERP) of a 64-bit executable: the dynamic loader, if any. */
function interpreter(elf: Buffer): string | undefined {
  const phoff = Number(elf.readBigUInt64LE(0x20));
  const size = elf.readUInt16LE(0x36);
  for (let i = 0; i < elf.readUInt16LE(0x38); i++) {
    const ph = phoff + i * size;
    if (elf.readUInt32LE(ph) !== 3) continue;
    const off = Number(elf.readBigUInt64LE(ph + 8));
    return elf.subarray(off, off + Number(elf.readBigUInt64LE(ph + 32)) - 1).toString();
  }
  return undefined;
}

const CAPS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp'];
const V1 = '/sys/fs/cgroup';

/** A cgroup v1 directory of our own in `controller`, removed by the returned function. */
function cgroup(controller: string, name: string): { dir: string; remove(): void } {
  const dir = join(V1, controller, name);
  mkdirSync(dir);
  return { dir, remove: () => rmdirSync(dir) };
}

describe('the target\'s confinement, copied (unshare-made targets)', function () {
  if (!readdirSync(V1).includes('pids')) return; // cgroup v1 with a pids hierarchy, as on the lab machines
  const stem = `scope-test-ld-${randomBytes(4).toString('hex')}`;
  let confined: BareContainer;
  let t: Target;
  let pids: { dir: string; remove(): void };
  let freezer: { dir: string; remove(): void };

  before(async () => {
    // A root target with a small bounding set, no_new_privs, low file limits, and loader variables
    // naming host files in its environment, in cgroups of its own.
    confined = await startBare('plain', {
      confine: ['/usr/bin/setpriv', '--no-new-privs', '--inh-caps=-all',
        '--bounding-set=-all,+chown,+setuid,+setgid,+sys_chroot,+kill',
        '/usr/bin/prlimit', '--nofile=256:512', '--nproc=300:400', '/usr/bin/choom', '-n', '321', '--'],
      env: { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: `/tmp/${stem}`, LD_PRELOAD: '/lib/x86_64-linux-gnu/libc.so.6' },
    });
    const name = `scope-test-${randomBytes(4).toString('hex')}`;
    pids = cgroup('pids', name);
    freezer = cgroup('freezer', name);
    writeFileSync(join(pids.dir, 'pids.max'), '50');
    for (const c of [pids, freezer]) writeFileSync(join(c.dir, 'cgroup.procs'), String(confined.pid));
    t = Target.open(confined.pid);
  });
  after(async () => {
    t?.close();
    await confined?.stop();
    pids?.remove();
    freezer?.remove();
  });

  it('the program gets the target\'s OOM score adjustment, as a runtime\'s exec inherits it', async () => {
    const target = readFileSync(`/proc/${confined.pid}/oom_score_adj`, 'utf8').trim();
    expect(target).to.equal('321');
    expect(readFileSync('/proc/self/oom_score_adj', 'utf8').trim()).not.to.equal(target);
    expect((await execInTarget(t, { argv: ['cat', '/proc/self/oom_score_adj'] })).stdout.trim()).to.equal(target);
  });

  it('the program gets the target\'s capabilities, no_new_privs and limits, not the engine\'s', async () => {
    const ours = status((await execInTarget(t, { argv: ['cat', '/proc/self/status'] })).stdout);
    const target = status(readFileSync(`/proc/${confined.pid}/status`, 'utf8'));
    expect(Object.fromEntries(CAPS.map((f) => [f, ours[f]])))
      .to.deep.equal(Object.fromEntries(CAPS.map((f) => [f, target[f]])));
    expect(ours.CapBnd).not.to.equal(status(readFileSync('/proc/self/status', 'utf8')).CapBnd);
    const limits = (await execInTarget(t, { argv: ['cat', '/proc/self/limits'] })).stdout;
    expect(limits.split('\n').filter((l) => /open files|processes/.test(l)))
      .to.deep.equal(readFileSync(`/proc/${confined.pid}/limits`, 'utf8').split('\n')
        .filter((l) => /open files|processes/.test(l)));
  });

  it('the program is in the target\'s cgroups, so their limits apply to it', async () => {
    const p = spawnInTarget(t, { argv: ['sleep', '30'] });
    try {
      const pid = await p.started;
      expect(readFileSync(join(pids.dir, 'cgroup.procs'), 'utf8').split('\n')).to.include(String(pid));
      expect(readFileSync(join(freezer.dir, 'cgroup.procs'), 'utf8').split('\n')).to.include(String(pid));
    } finally {
      p.child.kill('SIGTERM');
      await p.exited.catch(() => undefined);
    }
  });

  it('--privileged keeps the engine\'s capabilities and no_new_privs, but the target\'s cgroups', async () => {
    const ours = status((await execInTarget(t, { argv: ['sh', '-c', 'cat /proc/self/status; cat /proc/self/cgroup'],
      privileged: true })).stdout);
    expect(ours.CapBnd).to.equal(status(readFileSync('/proc/self/status', 'utf8')).CapBnd);
    expect(ours.NoNewPrivs).to.equal('0');
  });

  it('a frozen (paused) target is E_NOT_RUNNING, and nothing is started in it', async () => {
    const before = readFileSync(join(pids.dir, 'cgroup.procs'), 'utf8');
    writeFileSync(join(freezer.dir, 'freezer.state'), 'FROZEN');
    try {
      const err = await execInTarget(t, { argv: ['true'] }).catch((e) => e);
      expect(err.code).to.equal('E_NOT_RUNNING');
      expect(err.message).to.contain('paused');
    } finally {
      writeFileSync(join(freezer.dir, 'freezer.state'), 'THAWED');
    }
    expect(readFileSync(join(pids.dir, 'cgroup.procs'), 'utf8')).to.equal(before);
  });

  it('the container\'s environment reaches the program inside, never a loader on the host', async () => {
    const inside = (await execInTarget(t, { argv: ['cat', '/proc/self/environ'] })).stdout.split('\0');
    expect(inside).to.include(`LD_DEBUG_OUTPUT=/tmp/${stem}`);
    await execInTarget(t, { argv: ['/bin/busybox', 'true'], hostBinary: true });
    expect(readdirSync('/tmp').filter((f) => f.startsWith(stem))).to.deep.equal([]);
    // The probe works: a dynamic host program given that environment does write the file.
    execFileSync('/bin/true', { env: { LD_DEBUG: 'files', LD_DEBUG_OUTPUT: `/tmp/${stem}-control` } });
    const control = readdirSync('/tmp').filter((f) => f.startsWith(`${stem}-control`));
    expect(control).to.have.length(1);
    for (const f of control) require('node:fs').rmSync(join('/tmp', f));
  });

  it('the helper is a static executable: no dynamic loader runs on the host side', () => {
    expect(interpreter(readFileSync(execHelperPath()))).to.equal(undefined);
    expect(interpreter(readFileSync(process.execPath))).to.match(/ld-linux/); // the check sees one where there is one
  });

  it('a host binary runs from a sealed copy: the container cannot write the host\'s file through ' +
    '/proc/PID/exe', async () => {
    const r = await execInTarget(t, { argv: ['/bin/busybox', 'sh', '-c',
      'readlink /proc/self/exe; echo x >> /proc/self/exe; echo $?'], hostBinary: true });
    expect(r.stdout.split('\n')[0]).to.match(/^\/memfd:/);
    expect(r.stdout.split('\n')[1]).not.to.equal('0');
  });

  it('an empty namespace list is refused, by the engine and by the helper', () => {
    expect(() => spawnInTarget(t, { argv: ['true'], namespaces: [] })).to.throw(/no namespace/);
    const helper = spawnSync(execHelperPath(), ['--pidfd', '0', '--pid', '1', '--ns', ',', '--', 'true'],
      { encoding: 'utf8' });
    expect([helper.status, helper.stderr])
      .to.satisfy(([code, err]: [number, string]) => code === 2 && err.includes('names no namespace'));
  });

  it('an engine that cannot read the target\'s namespaces fails closed, naming the namespace', () => {
    const script = `try { require(${JSON.stringify(join(__dirname, '..', '..', 'native', 'target.js'))})` +
      `.Target.open(${confined.pid}); console.log('opened') } ` +
      'catch (e) { console.log(e.code + " " + e.message) }';
    const r = spawnSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', process.execPath, '-e', script],
      { encoding: 'utf8' });
    expect(r.stdout).to.match(/^E_PERMISSION cannot read the \w+ namespace of process \d+/);
  });
});
