import { expect } from 'chai';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { commandSocketName, fnv1a64, LxcHost } from '../../adapters/lxc/monitor';
import { PACKAGE_ROOT } from '../../base/paths';
import { HostRoot } from '../../native/host-root';
import { codeOf } from '../support/codes';
import { tempDir } from '../support/tmp';

let fake = '';

/** A listener on `lxcpath`/`name`'s command socket (see fake-monitor.c); resolves once it listens. */
async function listen(lxcpath: string, name: string, answer: string, uid?: number):
  Promise<{ named: number; stop: () => Promise<void> }> {
  const proc: ChildProcess = spawn(fake, [commandSocketName(lxcpath, name), answer],
    { stdio: ['pipe', 'pipe', 'inherit'], ...(uid === undefined ? {} : { uid, gid: uid }) });
  const line = await new Promise<string>((resolve, reject) => {
    createInterface({ input: proc.stdout! }).once('line', resolve);
    proc.once('exit', (code) => reject(new Error(`fake monitor exited ${code}`)));
  });
  return {
    named: Number(line.split(' ')[1]),
    stop: () => new Promise((resolve) => {
      proc.once('exit', () => resolve());
      proc.stdin!.end();
    }),
  };
}

/** A `sleep` whose parent is the init of a PID namespace of its own, as in a container; its host PID. */
async function sleepInPidNamespace(): Promise<{ pid: number; stop: () => void }> {
  const sh = spawn('unshare', ['--pid', '--fork', 'sh', '-c', 'sleep 1000 & wait'], { stdio: 'ignore' });
  for (let i = 0; i < 500; i++) {
    try {
      const shPid = Number(readFileSync(`/proc/${sh.pid}/task/${sh.pid}/children`, 'utf8').trim());
      const pid = Number(readFileSync(`/proc/${shPid}/task/${shPid}/children`, 'utf8').trim());
      if (pid > 0) return { pid, stop: () => process.kill(shPid, 'SIGKILL') };
    } catch {
      // not forked yet
    }
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error('unshare --pid did not start its sleep within 5 s');
}

describe('lxc monitors: what the adapter believes of a command socket', () => {
  const host = new LxcHost(new HostRoot('/', { check: false }), { uid: 0, gid: 0 });
  let lxcpath: string;
  before(() => {
    const dir = tempDir('fake-monitor-');
    fake = join(dir, 'fake-monitor');
    execFileSync('cc', ['-std=gnu11', '-O2', '-Wall', '-Wextra', '-o', fake,
      join(PACKAGE_ROOT, 'test', 'native', 'fake-monitor.c')]);
    // Run as another user below: it must reach its program.
    chmodSync(dir, 0o755);
  });
  beforeEach(() => {
    lxcpath = tempDir('scope-lxcpath-');
  });

  it('believes a listener that names a child it started (the shape of a monitor)', async () => {
    const m = await listen(lxcpath, 'c1', 'child');
    try {
      expect(await host.monitor(lxcpath, 'c1', { state: true })).to.deep.equal({ state: 'RUNNING', pid: m.named });
    } finally {
      await m.stop();
    }
  });

  it('says STOPPED when nothing listens, as liblxc does', async () => {
    expect(await host.monitor(lxcpath, 'none', { state: true })).to.deep.equal({ state: 'STOPPED', pid: 0 });
  });

  it('refuses a listener that names a process it did not start (another container\'s init)', async () => {
    const m = await listen(lxcpath, 'c2', `pid:${process.pid}`);
    try {
      const err = await host.monitor(lxcpath, 'c2').catch((e) => e);
      expect(err.code).to.equal('E_RUNTIME_ERROR');
      expect(err.message).to.match(/does not hold the socket/);
    } finally {
      await m.stop();
    }
  });

  it('refuses the host\'s init, whose parent no process in the host\'s PID namespace is', async () => {
    const m = await listen(lxcpath, 'c3', 'pid:1');
    try {
      expect(await codeOf(host.monitor(lxcpath, 'c3'))).to.equal('E_RUNTIME_ERROR');
    } finally {
      await m.stop();
    }
  });

  it('refuses a process whose parent runs in a PID namespace of its own, whatever it is named', async () => {
    const target = await sleepInPidNamespace();
    const m = await listen(lxcpath, 'c4', `pid:${target.pid}`);
    try {
      const err = await host.monitor(lxcpath, 'c4').catch((e) => e);
      expect(err.code).to.equal('E_RUNTIME_ERROR');
      expect(err.message).to.match(/PID namespace of its own/);
    } finally {
      await m.stop();
      target.stop();
    }
  });

  it('refuses a socket made by a user who is neither root nor the lxcpath\'s owner', async () => {
    const m = await listen(lxcpath, 'c5', 'child', 65534);
    try {
      const err = await host.monitor(lxcpath, 'c5').catch((e) => e);
      expect(err.code).to.equal('E_RUNTIME_ERROR');
      expect(err.message).to.match(/made by UID 65534/);
    } finally {
      await m.stop();
    }
  });

  it('believes the lxcpath\'s owner, as an unprivileged user\'s own monitors are', async () => {
    chownSync(lxcpath, 65534, 65534);
    const m = await listen(lxcpath, 'c6', 'child', 65534);
    try {
      expect((await host.monitor(lxcpath, 'c6'))?.pid).to.equal(m.named);
    } finally {
      await m.stop();
    }
  });

  it('takes a refusal to root for the lie it is; another user is sent the slower way', async () => {
    const m = await listen(lxcpath, 'c7', 'eperm');
    try {
      expect(await codeOf(host.monitor(lxcpath, 'c7'))).to.equal('E_RUNTIME_ERROR');
      const user = new LxcHost(new HostRoot('/', { check: false }), { uid: 1000, gid: 1000 });
      expect(await user.monitor(lxcpath, 'c7')).to.equal(undefined);
    } finally {
      await m.stop();
    }
  });

  it('names sockets as liblxc does: the path, or FNV-1a of it when too long for sun_path', () => {
    // FNV-1a 64's published test vectors.
    expect(fnv1a64('')).to.equal('cbf29ce484222325');
    expect(fnv1a64('a')).to.equal('af63dc4c8601ec8c');
    expect(fnv1a64('foobar')).to.equal('85944171f73967e8');
    expect(commandSocketName('/var/lib/lxc', 'web')).to.equal('/var/lib/lxc/web/command');
    const long = `/${'d'.repeat(100)}`;
    expect(commandSocketName(long, 'web')).to.equal(`lxc/${fnv1a64(`${long}/web`)}/command`);
  });
});
