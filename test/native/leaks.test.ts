import { expect } from 'chai';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { execInTarget } from '../../native/exec';
import { ContainerFs } from '../../native/files';
import { Target } from '../../native/target';
import { startBare, type BareContainer } from '../support/bare';

/** Open descriptors, each with what it refers to, so that a failure says what leaked. */
function openFds(): string[] {
  return readdirSync('/proc/self/fd').map((fd) => {
    try {
      return `${fd} -> ${readlinkSync(`/proc/self/fd/${fd}`)}`;
    } catch {
      return `${fd} -> (closed while listing)`;
    }
  }).filter((d) => !d.endsWith('(closed while listing)'));
}

function children(): string[] {
  return readdirSync('/proc/self/task').flatMap((tid) =>
    readFileSync(`/proc/self/task/${tid}/children`, 'utf8').trim().split(' ').filter(Boolean));
}

describe('no leaks (unshare-made target)', () => {
  let userns: BareContainer;
  before(async () => {
    userns = await startBare('userns');
  });
  after(() => userns?.stop());

  it('1000 write + exec cycles leave open descriptors and child processes where they began', async function () {
    this.timeout(300_000);
    // Warm up once so that lazily opened descriptors (the addon, libuv's) are counted in the baseline.
    const warm = Target.open(userns.pid);
    await new ContainerFs(warm).write('/tmp/warm', 'x');
    await execInTarget(warm, { argv: ['cat', '/tmp/warm'] });
    warm.close();
    const fdsBefore = openFds();
    const childrenBefore = children();
    for (let i = 0; i < 1000; i++) {
      const t = Target.open(userns.pid);
      try {
        await new ContainerFs(t).write(`/tmp/cycle-${i % 10}`, `cycle ${i}`, { uid: 1000, gid: 1000 });
        const r = await execInTarget(t, { argv: ['cat', `/tmp/cycle-${i % 10}`] });
        if (r.stdout !== `cycle ${i}`) expect.fail(`cycle ${i}: read back ${JSON.stringify(r.stdout)}`);
      } finally {
        t.close();
      }
    }
    // Descriptors of earlier tests may be closed meanwhile (garbage-collected pipes); none may appear.
    const added = openFds().filter((d) => !fdsBefore.includes(d));
    expect(added).to.deep.equal([]);
    expect(children()).to.deep.equal(childrenBefore);
  });
});
