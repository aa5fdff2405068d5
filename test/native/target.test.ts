import { expect } from 'chai';
import { readFileSync, readlinkSync } from 'node:fs';
import { Target } from '../../native/target';
import { startBare, USERNS_BASE, type BareContainer } from '../support/bare';

describe('target handle (unshare-made targets)', () => {
  let userns: BareContainer;
  let plain: BareContainer;
  before(async () => {
    [userns, plain] = await Promise.all([startBare('userns'), startBare('plain')]);
  });
  after(async () => {
    await Promise.all([userns?.stop(), plain?.stop()]);
  });

  it('reads namespaces, in-container PID, credentials and ID maps of a user-namespaced target', () => {
    const t = Target.open(userns.pid);
    try {
      expect(t.nsPid).to.equal(1);
      expect(t.uid).to.equal(USERNS_BASE);
      expect(t.uidMap.ranges).to.deep.equal([{ inside: 0, outside: USERNS_BASE, count: 65536 }]);
      expect(t.gidMap.toHost(1000)).to.equal(USERNS_BASE + 1000);
      expect(t.differing).to.include.members(['mnt', 'pid', 'user']);
      expect(t.differing).not.to.include('net');
      const mnt = readlinkSync(`/proc/${userns.pid}/ns/mnt`);
      expect(mnt).to.equal(`mnt:[${t.namespaces.mnt!.ino}]`);
    } finally {
      t.close();
    }
  });

  it('a target without a user namespace has the identity map and differs in mnt and pid only', () => {
    const t = Target.open(plain.pid);
    try {
      expect(t.uidMap.isIdentity()).to.equal(true);
      expect(t.differing.sort()).to.deep.equal(['mnt', 'pid']);
    } finally {
      t.close();
    }
  });

  it('a process that has exited is E_TARGET_GONE, when opening and after', async () => {
    const gone = await startBare('plain');
    const t = Target.open(gone.pid);
    await gone.stop();
    expect(() => t.assertAlive()).to.throw(/has exited/).with.property('code', 'E_TARGET_GONE');
    expect(() => t.rootFd()).to.throw().with.property('code', 'E_TARGET_GONE');
    t.close();
    expect(() => Target.open(gone.pid)).to.throw().with.property('code', 'E_TARGET_GONE');
  });

  it('a PID whose start time differs from the one resolved is refused as reused', () => {
    const startTime = readFileSync(`/proc/${plain.pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[19];
    Target.open(plain.pid, { startTime }).close();
    expect(() => Target.open(plain.pid, { startTime: String(Number(startTime) - 1) }))
      .to.throw(/has been reused/).with.property('code', 'E_TARGET_GONE');
  });

  it('closing releases the pidfd and the root descriptor', () => {
    const before = fdCount();
    const t = Target.open(plain.pid);
    t.rootFd();
    expect(fdCount()).to.equal(before + 2);
    t.close();
    expect(fdCount()).to.equal(before);
  });
});

export function fdCount(): number {
  return require('node:fs').readdirSync('/proc/self/fd').length;
}
