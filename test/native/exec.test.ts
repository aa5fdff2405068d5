import { expect } from 'chai';
import { readlinkSync } from 'node:fs';
import { execInTarget, spawnInTarget } from '../../native/exec';
import { NAMESPACES, Target } from '../../native/target';
import { startBare, type BareContainer } from '../support/bare';

describe('exec inside a target (unshare-made targets)', () => {
  let userns: BareContainer;
  let noshell: BareContainer;
  let t: Target;
  let bare: Target;
  before(async () => {
    [userns, noshell] = await Promise.all([startBare('userns'), startBare('noshell')]);
    t = Target.open(userns.pid);
    bare = Target.open(noshell.pid);
  });
  after(async () => {
    t?.close();
    bare?.close();
    await Promise.all([userns?.stop(), noshell?.stop()]);
  });

  it('the program\'s namespaces are the target\'s, every one of them', async () => {
    const r = await execInTarget(t,
      { argv: ['sh', '-c', NAMESPACES.map((ns) => `readlink /proc/self/ns/${ns}`).join(';')] });
    expect(r.code, r.stderr).to.equal(0);
    expect(r.stdout.trim().split('\n'))
      .to.deep.equal(NAMESPACES.map((ns) => readlinkSync(`/proc/${userns.pid}/ns/${ns}`)));
  });

  it('sees the target\'s PID namespace: the target is PID 1 there', async () => {
    const r = await execInTarget(t, { argv: ['sh', '-c', 'cat /proc/1/cmdline | tr "\\0" " "; echo; echo $$'] });
    expect(r.stdout.split('\n')[0].trim()).to.equal('/bin/sleep 100000');
    expect(Number(r.stdout.split('\n')[1])).to.be.below(100);
  });

  it('runs as the target\'s user with its groups (here root with none) by default, ' +
    'and as another user when asked', async () => {
    expect((await execInTarget(t, { argv: ['id'] })).stdout.trim()).to.equal('uid=0(root) gid=0(root)');
    expect((await execInTarget(t, { argv: ['id'], uid: 1000, gid: 1000 })).stdout.trim())
      .to.equal('uid=1000(app) gid=1000(app) groups=1000(app)');
  });

  it('exit codes 0 and 3 and a death by signal come back as such', async () => {
    expect((await execInTarget(t, { argv: ['sh', '-c', 'exit 0'] })).code).to.equal(0);
    expect((await execInTarget(t, { argv: ['sh', '-c', 'exit 3'] })).code).to.equal(3);
    const killed = await execInTarget(t, { argv: ['sh', '-c', 'kill -SEGV $$'] });
    expect([killed.code, killed.signal]).to.deep.equal([null, 'SIGSEGV']);
  });

  it('stdin is piped through', async () => {
    const r = await execInTarget(t, { argv: ['wc', '-c'], input: 'x'.repeat(100000) });
    expect(r.stdout.trim()).to.equal('100000');
  });

  it('SIGTERM sent to the helper reaches the program', async () => {
    const p = spawnInTarget(t, { argv: ['sleep', '30'] });
    await p.started;
    p.child.kill('SIGTERM');
    expect(await p.exited).to.deep.equal({ code: null, signal: 'SIGTERM' });
  });

  it('the working directory and environment are set', async () => {
    const r = await execInTarget(t, { argv: ['sh', '-c', 'pwd; echo $GREETING'], cwd: '/etc',
      env: { GREETING: 'hello' } });
    expect(r.stdout).to.equal('/etc\nhello\n');
  });

  it('a program that is not there is E_EXEC_NOT_FOUND; a container without a shell runs a host binary', async () => {
    const missing = await execInTarget(bare, { argv: ['sh', '-c', 'true'] }).catch((e) => e);
    expect(missing.code).to.equal('E_EXEC_NOT_FOUND');
    const r = await execInTarget(bare, { argv: ['/bin/busybox', 'ls', '/bin'], hostBinary: true });
    expect([r.code, r.stdout.trim()]).to.deep.equal([0, 'sleep']);
  });

  it('with tty the program gets a terminal as stdin and stdout, relayed by the helper', async () => {
    const r = await execInTarget(t, { argv: ['sh', '-c', 'test -t 0 && test -t 1 && echo terminal'], tty: true });
    expect(r.code).to.equal(0);
    expect(r.stdout.replace(/\r/g, '')).to.equal('terminal\n');
    const plain = await execInTarget(t, { argv: ['sh', '-c', 'test -t 1 || echo no-terminal'] });
    expect(plain.stdout).to.equal('no-terminal\n');
  });

  it('an unknown namespace name is refused before anything runs', () => {
    expect(() => spawnInTarget(t, { argv: ['true'], namespaces: ['bogus' as never] })).to.throw(/unknown namespace/);
  });
});
