import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { chmodSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { account } from '../../testing/as-user';
import { CLI, cli, type CliResult } from '../support/cli';
import { skipOrFail } from '../support/lab';
import { tempDir } from '../support/tmp';

/**
 * The whole flow as an ordinary user on that user's own rootless containers (the lab's se-rootless,
 * test/lab/rootless.sh), through the CLI a user types, with no root anywhere in the engine.
 */
const USER = 'se-rootless';

const lab = () => account(USER);

/** `scope-engine ARGS` as the user, with the environment a login gives it. */
function asUser(args: string[]): Promise<CliResult> {
  const a = lab()!;
  const env = { HOME: a.home, USER, XDG_RUNTIME_DIR: `/run/user/${a.uid}`, PATH: process.env.PATH,
    NODE_EXTRA_CA_CERTS: '' };
  return new Promise((resolve) => {
    execFile(process.execPath, [CLI, ...args],
      { uid: a.uid, gid: a.gid, env, cwd: '/', timeout: 60_000 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout: String(stdout),
        stderr: String(stderr) });
    });
  });
}

const ok = (r: CliResult) => expect(r.code, `${r.stdout}${r.stderr}`).to.equal(0);

describe('rootless: the whole flow as an ordinary user on its own containers', function () {
  before(function () {
    if (lab()) return;
    skipOrFail(this, `no user ${USER}; the lab makes it (bash test/lab/setup.sh)`);
  });

  for (const [runtime, name] of [['podman', 'lab-rl-pod'], ['docker', 'lab-rl-docker']]) {
    it(`${runtime}: run -d, cp owned by a subordinate ID, detach, reattach, ipc status, stop`, async () => {
      const subuid = Number(readFileSync('/etc/subuid', 'utf8').split('\n')
        .find((l) => l.startsWith(`${USER}:`))!.split(':')[1]);
      await asUser(['stop', '-r', runtime, '--all', name]);
      ok(await asUser(['run', '-d', '-r', runtime, name]));
      const dir = tempDir('se-rl-');
      chmodSync(dir, 0o755); // the user reads the source
      const src = `${dir}/note.txt`;
      writeFileSync(src, 'rootless\n', { mode: 0o644 });
      ok(await asUser(['cp', '-r', runtime, '--owner', '1000:1000', src, `${name}:/tmp/se-rl-note.txt`]));
      const pid = Number((await asUser(['resolve', '-r', runtime, name])).stdout.trim());
      // Container user 1000 is the user's subordinate ID 999 past the first (uid 0 is the user itself).
      const st = statSync(`/proc/${pid}/root/tmp/se-rl-note.txt`);
      expect([st.uid, st.gid]).to.deep.equal([subuid + 999, subuid + 999]);
      ok(await asUser(['detach', '-r', runtime, name]));
      ok(await asUser(['reattach', '-r', runtime, name]));
      const status = await asUser(['--json', 'ipc', '-r', runtime, name, 'status']);
      ok(status);
      expect(JSON.parse(status.stdout).data).to.include({ attached: true });
      ok(await asUser(['stop', '-r', runtime, name]));
      ok(await asUser(['exec', '-r', runtime, name, '--', 'rm', '-f', '/tmp/se-rl-note.txt']));
    });
  }

  it('root sees the user\'s rootless podman containers, each with its user', async () => {
    const r = await cli(['--json', 'ps', '-r', 'podman']);
    ok(r);
    const mine = JSON.parse(r.stdout).containers.filter((c: { user?: string }) => c.user === USER);
    expect(mine.map((c: { name: string }) => c.name)).to.include('lab-rl-pod');
  });
});
