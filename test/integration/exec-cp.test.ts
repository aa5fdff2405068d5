import { expect } from 'chai';
import { readlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';
import { tempDir } from '../support/tmp';

/** exec and cp through the CLI on the lab's docker container, end to end. */
describe('exec and cp on docker (real daemon)', function () {
  const env = { SCOPE_ENGINE_PLUGINS: '' };
  let pid: string;

  before(async function () {
    await requireRuntime(this, 'docker');
    pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web']);
  });

  it('exec lands in the container\'s namespaces and hands back the exit status', async () => {
    const r = await cli(['exec', '--runtime', 'docker', 'lab-web', '--', 'sh', '-c',
      'for n in mnt pid ipc uts net; do readlink /proc/self/ns/$n; done; exit 7'], env);
    expect(r.code, r.stderr).to.equal(7);
    expect(r.stdout.trim().split('\n'))
      .to.deep.equal(['mnt', 'pid', 'ipc', 'uts', 'net'].map((n) => readlinkSync(`/proc/${pid}/ns/${n}`)));
  });

  it('exec --user by name and -i with stdin', async () => {
    expect((await cli(['exec', '-r', 'docker', '--user', 'app', 'lab-web', '--', 'id', '-u'], env)).stdout)
      .to.equal('1000\n');
    const r = await cli(['exec', '-r', 'docker', '-i', 'lab-web', '--', 'cat'], env, 'piped\n');
    expect([r.code, r.stdout]).to.deep.equal([0, 'piped\n']);
    // Without -i the command's stdin is closed, as with docker exec.
    expect((await cli(['exec', '-r', 'docker', 'lab-web', '--', 'cat'], env, 'not passed\n')).stdout).to.equal('');
  });

  it('exec --json captures output and status; a missing program is exit 127 with E_EXEC_NOT_FOUND', async () => {
    const ok = json(await cli(['--json', 'exec', '-r', 'docker', 'lab-web', '--', 'sh', '-c',
      'echo out; echo err >&2; exit 2'], env));
    expect(ok).to.deep.include({ exitCode: 2, signal: null, stdout: 'out\n', stderr: 'err\n' });
    const missing = await cli(['exec', '-r', 'docker', 'lab-web', '--', 'no-such-program'], env);
    expect(missing.code).to.equal(127);
    expect(missing.stderr).to.contain('E_EXEC_NOT_FOUND');
  });

  it('cp writes a file owned as asked, readable inside; docker exec agrees', async () => {
    const dir = tempDir('cp-');
    writeFileSync(join(dir, 'agent.conf'), 'key=value\n');
    const r = await cli(['cp', '-r', 'docker', '--owner', 'app:app', '--mode', '0640', join(dir, 'agent.conf'),
      'lab-web:/home/app/', '--json'], env);
    expect(json(r).copied[0]).to.deep.include({ path: '/home/app/agent.conf', uid: 1000, gid: 1000, mode: 0o640 });
    expect(tool('docker', ['exec', '-u', '1000', 'lab-web', 'cat', '/home/app/agent.conf'])).to.equal('key=value');
    expect(tool('docker', ['exec', 'lab-web', 'stat', '-c', '%u:%g %a', '/home/app/agent.conf']))
      .to.equal('1000:1000 640');
    tool('docker', ['exec', '-u', '1000', 'lab-web', 'rm', '/home/app/agent.conf']);
  });

  it('cp to a bad destination is a usage error', async () => {
    const r = await cli(['cp', 'README.md', 'lab-web'], env);
    expect(r.code).to.equal(2);
  });
});
