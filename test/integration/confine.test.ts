import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { createInterface } from 'node:readline';
import { cli } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

/** Confinement through the CLI on the lab's docker containers: what a user sees when it cannot be copied. */
describe('confinement through the CLI (real docker)', function () {
  const env = { SCOPE_ENGINE_PLUGINS: '' };
  before(async function () {
    await requireRuntime(this, 'docker');
  });

  it('exec runs as the container\'s user by default, as docker exec does', async () => {
    const ours = await cli(['exec', '-r', 'docker', 'lab-app', '--', 'id'], env);
    expect([ours.code, ours.stdout]).to.deep.equal([0, tool('docker', ['exec', 'lab-app', 'id']) + '\n']);
  });

  it('an empty or malformed --ns is E_USAGE and runs nothing', async () => {
    for (const ns of ['', ',', 'net,,pid', 'bogus']) {
      const r = await cli(['exec', '-r', 'docker', '--ns', ns, 'lab-web', '--', 'true'], env);
      expect([r.code, r.stderr], `--ns "${ns}"`)
        .to.satisfy(([code, err]: [number, string]) => code === 2 && err.includes('E_USAGE'));
    }
  });

  it('--privileged says so on stderr and keeps the engine\'s capabilities', async () => {
    const r = await cli(['exec', '-r', 'docker', '--privileged', 'lab-web', '--', 'grep', 'CapBnd',
      '/proc/self/status'], env);
    expect(r.stderr).to.contain('--privileged');
    expect(r.stdout).not.to.contain('00000000a80425fb');
    const plain = await cli(['exec', '-r', 'docker', 'lab-web', '--', 'grep', 'CapBnd', '/proc/self/status'], env);
    expect([plain.stdout, plain.stderr])
      .to.deep.equal([tool('docker', ['exec', 'lab-web', 'grep', 'CapBnd', '/proc/self/status']) + '\n', '']);
  });

  it('a paused container is E_NOT_RUNNING for exec, run and attach', async () => {
    tool('docker', ['pause', 'lab-app']);
    try {
      for (const args of [['exec', 'lab-app', '--', 'true'], ['run', 'lab-app', '--', 'true'], ['attach', 'lab-app']]) {
        const r = await cli([args[0], '-r', 'docker', ...args.slice(1)], env);
        expect([r.code, r.stderr], args.join(' '))
          .to.satisfy(([code, err]: [number, string]) => code === 5 && err.includes('paused'));
      }
    } finally {
      tool('docker', ['unpause', 'lab-app']);
    }
  });

  it('a target with a tracer attached is E_CONFINEMENT: its seccomp filters cannot be read', async () => {
    const pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web']);
    // PTRACE_SEIZE (0x4206) from a process of our own, which holds the target until we end it.
    const tracer = spawn('python3', ['-c', 'import ctypes, sys, time\nlibc = ctypes.CDLL(None, use_errno=True)\n' +
      'print(libc.ptrace(0x4206, int(sys.argv[1]), 0, 0), ctypes.get_errno(), flush=True)\ntime.sleep(60)', pid],
      { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      const [line] = await new Promise<string[]>((res) =>
        createInterface({ input: tracer.stdout! }).once('line', (l) => res([l])));
      expect(line).to.equal('0 0');
      const r = await cli(['exec', '-r', 'docker', 'lab-web', '--', 'true'], env);
      expect(r.code).to.equal(22);
      expect(r.stderr).to.match(/E_CONFINEMENT.*traced by PID \d+/);
    } finally {
      tracer.kill('SIGKILL');
      await new Promise((res) => tracer.once('exit', res));
    }
    expect((await cli(['exec', '-r', 'docker', 'lab-web', '--', 'true'], env)).code).to.equal(0);
  });
});
