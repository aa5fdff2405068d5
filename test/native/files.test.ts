import { expect } from 'chai';
import { existsSync, lstatSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { execInTarget } from '../../native/exec';
import { ContainerFs } from '../../native/files';
import { Target } from '../../native/target';
import { startBare, USERNS_BASE, type BareContainer } from '../support/bare';

describe('ID-mapped file writes (unshare-made targets)', () => {
  let userns: BareContainer;
  let t: Target;
  let fs: ContainerFs;
  const inside = (argv: string[], uid = 0) => execInTarget(t, { argv, uid, gid: uid });

  before(async () => {
    userns = await startBare('userns');
    t = Target.open(userns.pid);
    fs = new ContainerFs(t);
  });
  after(async () => {
    t?.close();
    await userns?.stop();
  });

  it('a file written for the container\'s root is 0:0 inside, 100000 on the host, ' +
    'readable and removable by that root', async () => {
    await fs.write('/etc/scope-test.conf', 'root data\n', { uid: 0, gid: 0, mode: 0o600 });
    const host = statSync(join(userns.root, 'etc', 'scope-test.conf'));
    expect([host.uid, host.gid, host.mode & 0o777]).to.deep.equal([USERNS_BASE, USERNS_BASE, 0o600]);
    expect((await inside(['stat', '-c', '%u:%g %a', '/etc/scope-test.conf'])).stdout.trim()).to.equal('0:0 600');
    expect((await inside(['cat', '/etc/scope-test.conf'])).stdout).to.equal('root data\n');
    expect((await inside(['rm', '/etc/scope-test.conf'])).code).to.equal(0);
    expect(existsSync(join(userns.root, 'etc', 'scope-test.conf'))).to.equal(false);
  });

  it('by default a file is owned by the target process\'s user, with the mode asked whatever the umask', async () => {
    const st = await fs.write('/tmp/default-owner', 'x', { mode: 0o666 });
    expect([st!.uid, st!.gid, st!.hostUid, st!.mode]).to.deep.equal([0, 0, USERNS_BASE, 0o666]);
  });

  it('a file (and its new directories) written for a non-root user is theirs to read and remove inside', async () => {
    await fs.write('/tmp/app/deep/note.txt', 'for app\n', { uid: 1000, gid: 1000, parents: true, mode: 0o640 });
    expect((await inside(['stat', '-c', '%u:%g', '/tmp/app', '/tmp/app/deep', '/tmp/app/deep/note.txt'])).stdout
      .trim().split('\n'))
      .to.deep.equal(['1000:1000', '1000:1000', '1000:1000']);
    expect((await inside(['cat', '/tmp/app/deep/note.txt'], 1000)).stdout).to.equal('for app\n');
    const rm = await inside(['rm', '/tmp/app/deep/note.txt'], 1000);
    expect(rm.code, rm.stderr).to.equal(0);
  });

  it('writes as that user: where the user may not write, it is refused (E_PERMISSION) ' +
    'and nothing is left', async () => {
    const err = await fs.write('/etc/not-for-app', 'x', { uid: 1000, gid: 1000 }).catch((e) => e);
    expect(err.code).to.equal('E_PERMISSION');
    expect(existsSync(join(userns.root, 'etc', 'not-for-app'))).to.equal(false);
  });

  it('an unmapped uid is refused', async () => {
    const err = await fs.write('/tmp/unmapped', 'x', { uid: 70000 }).catch((e) => e);
    expect(err.code).to.equal('E_ID_UNMAPPED');
    expect((await inside(['ls', '/tmp'])).stdout).not.to.contain('unmapped');
  });

  it('symlinks the target planted towards host paths never let a write land outside', async () => {
    const plant = await inside(['sh', '-c', [
      'ln -s /etc /tmp/abs-escape', 'ln -s ../../../../../../../../etc /tmp/dots-escape',
      'ln -s /proc/1/root/etc /tmp/magic-escape', `ln -s ${join(userns.root, '..')} /tmp/hostpath`,
    ].join(' && ')]);
    expect(plant.code, plant.stderr).to.equal(0);
    const name = `scope-escape-${process.pid}`;
    for (const dir of ['abs-escape', 'dots-escape', 'hostpath']) {
      await fs.write(`/tmp/${dir}/${name}`, 'x').catch(() => undefined);
      await fs.write(`/tmp/../../../etc/${name}-dots`, 'x').catch(() => undefined);
    }
    // Through a magic link the kernel refuses outright.
    expect((await fs.write(`/tmp/magic-escape/${name}`, 'x').catch((e) => e)).code).to.equal('E_FILE');
    expect(existsSync(`/etc/${name}`), 'landed in the host /etc').to.equal(false);
    expect(existsSync(`/etc/${name}-dots`), 'landed in the host /etc').to.equal(false);
    expect(existsSync(join(userns.root, '..', name)), 'landed beside the root').to.equal(false);
    // What did land stayed inside: the container's own /etc.
    expect(existsSync(join(userns.root, 'etc', name))).to.equal(true);
  });

  it('a symlink at the last component is replaced, never followed', async () => {
    const before = readFileSync(join(userns.root, 'etc', 'passwd'), 'utf8');
    expect((await inside(['ln', '-s', '/etc/passwd', '/tmp/last-link'])).code).to.equal(0);
    await fs.write('/tmp/last-link', 'replaced');
    expect(readFileSync(join(userns.root, 'etc', 'passwd'), 'utf8')).to.equal(before);
    expect((await inside(['cat', '/tmp/last-link'])).stdout).to.equal('replaced');
    expect((await fs.stat('/tmp/last-link')).type).to.equal('file');
  });

  it('makes symlinks and directories owned the same way, reads, stats and unlinks', async () => {
    await fs.mkdir('/tmp/made/here', { uid: 1000, gid: 1000, mode: 0o750 });
    expect(await fs.stat('/tmp/made/here')).to.deep.include({ type: 'directory', uid: 1000, gid: 1000, mode: 0o750 });
    await fs.symlink('/etc/passwd', '/tmp/made/link', { uid: 1000, gid: 1000 });
    expect(await fs.stat('/tmp/made/link')).to.deep.include({ type: 'symlink', uid: 1000, linkTarget: '/etc/passwd' });
    expect((await fs.read('/tmp/made/link')).toString()).to.contain('app:x:1000');
    await fs.unlink('/tmp/made/link');
    expect((await fs.stat('/tmp/made/link').catch((e) => e)).code).to.equal('E_FILE');
  });

  it('a write is atomic: a reader never sees half a file, and no temporary file is left', async () => {
    const big = 'a'.repeat(1 << 20);
    const reads: Promise<string>[] = [];
    await fs.write('/tmp/atomic', big);
    const writes = [];
    for (let i = 0; i < 10; i++) {
      writes.push(fs.write('/tmp/atomic', (i % 2 ? 'a' : 'b').repeat(1 << 20)));
      reads.push(inside(['sh', '-c', 'head -c 1048576 /tmp/atomic | wc -c']).then((r) => r.stdout.trim()));
    }
    await Promise.all(writes);
    for (const r of await Promise.all(reads)) expect(r).to.equal(String(1 << 20));
    expect((await inside(['ls', '-a', '/tmp'])).stdout).not.to.contain('.scope-engine-');
  });

  it('a failed write (no space left) leaves nothing behind', async () => {
    const r = await inside(['sh', '-c', 'mkdir /tmp/small && echo ok']);
    expect(r.code).to.equal(0);
    // A 64 KiB tmpfs inside the target's own mount namespace, mounted there by exec's root.
    const mount = await execInTarget(t, { argv: ['/bin/busybox', 'mount', '-t', 'tmpfs', '-o', 'size=64k,mode=1777',
      'tmpfs', '/tmp/small'] });
    expect(mount.code, mount.stderr).to.equal(0);
    const err = await fs.write('/tmp/small/big', Buffer.alloc(1 << 20)).catch((e) => e);
    expect(err.code).to.equal('E_FILE');
    expect(err.message).to.match(/No space left/);
    expect((await inside(['ls', '-a', '/tmp/small'])).stdout.trim().split('\n').sort()).to.deep.equal(['.', '..']);
    expect(lstatSync(join(userns.root, 'tmp')).isDirectory()).to.equal(true);
  });
});
