import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readlinkSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { cli, CLI, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';
import { tempDir } from '../support/tmp';

/**
 * The container-side fault suite: what a hostile container can plant, and what an unlucky user can
 * run into, each with its code and nothing left behind. On docker containers of its own.
 */
describe('faults: a hostile container, an interrupted user (real docker)', function () {
  const env = { SCOPE_ENGINE_PLUGINS: '', NODE_EXTRA_CA_CERTS: '' };
  const name = `se-fault-${randomBytes(3).toString('hex')}`;
  const small = `${name}-small`;
  const inside = async (ref: string, script: string) =>
    cli(['exec', '-r', 'docker', ref, '--', 'sh', '-c', script], env);
  const probes = async (ref: string) =>
    Number((await inside(ref, 'ps -o pid,args | grep -c "[s]cope-probe --pid"')).stdout.trim());

  before(async function () {
    await requireRuntime(this, 'docker');
    tool('docker', ['run', '-d', '--name', name, '--network', 'none', '--tmpfs', '/small:size=1m', 'scope-lab-busybox',
      '/bin/sleep', '1000000']);
    // /usr/lib too small for the probe: installs must fall back to /tmp, leaving nothing in /usr/lib.
    tool('docker', ['run', '-d', '--name', small, '--network', 'none', '--tmpfs', '/usr/lib:size=64k',
      'scope-lab-busybox', '/bin/sleep', '1000000']);
  });
  after(() => {
    tool('docker', ['rm', '-f', name, small]);
  });
  afterEach(async () => {
    await cli(['stop', '-r', 'docker', '--all', name], env);
  });

  it('a planted install of the same size and hash is not reused nor run: it is replaced', async () => {
    expect((await cli(['attach', '-r', 'docker', name], env)).code).to.equal(0);
    await cli(['stop', '-r', 'docker', '--keep', name], env);
    const dir = '/usr/lib/scope-engine/0.1.0';
    const size = Number((await inside(name, `stat -c %s ${dir}/scope-probe`)).stdout);
    const script = '#!/bin/sh\ntouch /tmp/planted-ran\nexec sleep 1000\n';
    await inside(name,
      `{ printf '${script.replace(/\n/g, '\\n')}'; head -c ${size - script.length} /dev/zero; } > ${dir}/scope-probe`);
    const r = json(await cli(['--json', 'attach', '-r', 'docker', name], env));
    expect(r.install.reused).to.equal(false);
    expect((await inside(name, 'test -e /tmp/planted-ran; echo $?')).stdout.trim()).to.equal('1');
    expect((await inside(name, `head -c 4 ${dir}/scope-probe | od -c | head -1`)).stdout).to.contain('E   L   F');
    expect(readlinkSync(`/proc/${r.loader.pid}/exe`)).to.match(/^\/memfd:scope-probe/);
  });

  it('a symlink planted at the lock file: attach fails with E_PAYLOAD, no probe runs', async () => {
    await cli(['attach', '-r', 'docker', name], env);
    await cli(['stop', '-r', 'docker', '--keep', name], env);
    await inside(name, 'ln -sf /etc/passwd /usr/lib/scope-engine/0.1.0/scope-probe.1.lock');
    const r = await cli(['attach', '-r', 'docker', name], env);
    expect([r.code, r.stderr])
      .to.satisfy(([code, err]: [number, string]) => code === 16 && err.includes('before it took its lock'));
    expect(await probes(name)).to.equal(0);
    await inside(name, 'rm -f /usr/lib/scope-engine/0.1.0/scope-probe.1.lock');
  });

  it('4 attach at once: one starts, the others are E_ALREADY_RUNNING, one probe runs', async () => {
    for (let round = 0; round < 3; round++) {
      await cli(['stop', '-r', 'docker', name], env);
      const codes = (await Promise.all([1, 2, 3, 4].map(() => cli(['attach', '-r', 'docker', name], env))))
        .map((r) => r.code).sort();
      expect(codes, `round ${round}`).to.deep.equal([0, 18, 18, 18]);
      expect(await probes(name)).to.equal(1);
    }
  });

  it('stop ends our loader only, never a process that merely has its name, and removes the install', async () => {
    // A process named scope-probe that is not ours: `pkill -x scope-probe` would end it.
    await inside(name, 'mkdir -p /tmp/decoy && printf "#!/bin/sh\\nsleep 60\\n" > /tmp/decoy/scope-probe && ' +
      'chmod +x /tmp/decoy/scope-probe');
    const decoy = spawn(process.execPath, [CLI, 'exec', '-r', 'docker', name, '--', '/tmp/decoy/scope-probe'],
      { env: { ...process.env, ...env } });
    try {
      await cli(['attach', '-r', 'docker', name], env);
      const r = await cli(['stop', '-r', 'docker', name], env);
      expect(r.stdout).to.match(/stopped loader PID \d+ \(watching PID 1\)[\s\S]*removed/);
      expect((await inside(name, 'grep -lx scope-probe /proc/[0-9]*/comm | wc -l')).stdout.trim()).to.equal('1');
      expect((await inside(name, 'ls /usr/lib/scope-engine 2>&1; ls -a /usr/lib | grep -c scope')).stdout)
        .to.contain('No such file');
    } finally {
      decoy.kill('SIGTERM');
    }
  });

  it('stop ends our loader and leaves another user\'s look-alike install alone, ' +
    'printing no escape from it', async () => {
    const plant = 'mkdir -p /tmp/scope-engine/0.1.0 && ' +
      'echo {} > /tmp/scope-engine/0.1.0/.scope-engine-payload.json && ' +
      'cd /tmp/scope-engine/0.1.0 && mkdir "$(printf "x\\033[2J")" && cd x* && ' +
      'i=0; while [ $i -lt 70 ]; do mkdir d; cd d; i=$((i+1)); done';
    expect((await cli(['exec', '-r', 'docker', '--user', '1000:1000', name, '--', 'sh', '-c', plant], env)).code)
      .to.equal(0);
    try {
      await cli(['attach', '-r', 'docker', name], env);
      const r = await cli(['stop', '-r', 'docker', name], env);
      expect([r.code, r.stdout + r.stderr])
        .to.satisfy(([code, out]: [number, string]) => code === 0 && !out.includes('\x1b'));
      expect(await probes(name)).to.equal(0);
      expect((await inside(name, 'test -d /tmp/scope-engine/0.1.0/x*; echo $?')).stdout.trim()).to.equal('0');
    } finally {
      await inside(name, 'rm -rf /tmp/scope-engine');
    }
  });

  it('a full /usr/lib: the install falls back to /tmp and leaves nothing in /usr/lib', async () => {
    const r = json(await cli(['--json', 'attach', '-r', 'docker', small], env));
    expect(r.install.dir).to.equal('/tmp/scope-engine/0.1.0');
    expect((await inside(small, 'ls -a /usr/lib')).stdout.split('\n').filter((l) => l && l !== '.' && l !== '..'))
      .to.deep.equal([]);
    await cli(['stop', '-r', 'docker', small], env);
  });

  it('Ctrl-C during an install leaves no install and no temporary file', async () => {
    // A payload of many large files, so that the install takes long enough to be interrupted midway.
    const dir = tempDir('se-big-payload-');
    try {
      const files = Array.from({ length: 30 }, (_, i) => ({ path: `blob${i}`, mode: '0644' }));
      for (const f of files) writeFileSync(join(dir, f.path), randomBytes(4 << 20));
      writeFileSync(join(dir, 'payload.json'),
        JSON.stringify({ name: 'big', version: '9.9.9', files, loader: { command: ['/bin/true'] } }));
      const child = spawn(process.execPath, [CLI, 'attach', '-r', 'docker', '--payload', dir, name],
        { env: { ...process.env, ...env } });
      const interrupted = new Promise<number | null>((resolve) => {
        child.stderr.on('data', (b: Buffer) => { if (b.toString().includes('installing')) child.kill('SIGINT'); });
        child.on('exit', (code) => resolve(code));
      });
      expect(await interrupted).to.equal(130);
      const left = (await inside(name, 'find /usr/lib/scope-engine /tmp/scope-engine /dev/shm/scope-engine ' +
        '-name "*9.9.9*" -o -name "*.tmp" 2>/dev/null')).stdout;
      expect(left).to.equal('');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('Ctrl-C during a directory cp removes the directory it made', async () => {
    const src = tempDir('se-cp-big-');
    const pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', name]);
    try {
      for (let i = 0; i < 40; i++) writeFileSync(join(src, `blob${i}`), randomBytes(4 << 20));
      const child = spawn(process.execPath, [CLI, 'cp', '-r', 'docker', src, `${name}:/tmp/cpbig`],
        { env: { ...process.env, ...env } });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      // Seen from the host through the container's root: the first file is there, the copy is under way.
      while (!existsSync(`/proc/${pid}/root/tmp/cpbig/blob0`) && child.exitCode === null)
        await new Promise((r) => setTimeout(r, 5));
      child.kill('SIGINT');
      expect(await exited).to.equal(130);
      expect(existsSync(`/proc/${pid}/root/tmp/cpbig`)).to.equal(false);
      expect((await inside(name, 'ls -a /tmp | grep -c scope-engine')).stdout.trim()).to.equal('0');
    } finally {
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('a file where the install directory should be: the install falls back to /tmp', async () => {
    await inside(name, 'rm -rf /usr/lib/scope-engine && touch /usr/lib/scope-engine');
    try {
      const r = json(await cli(['--json', 'attach', '-r', 'docker', name], env));
      expect(r.install.dir).to.equal('/tmp/scope-engine/0.1.0');
    } finally {
      await inside(name, 'rm -f /usr/lib/scope-engine');
    }
  });

  it('a write that fills the disk leaves no temporary file behind', async () => {
    const big = join(tempDir('se-big-'), 'big');
    writeFileSync(big, randomBytes(2 << 20));
    const r = await cli(['cp', '-r', 'docker', big, `${name}:/small/big`], env);
    expect([r.code, r.stderr])
      .to.satisfy(([code, err]: [number, string]) => code === 14 && /ENOSPC|no space/i.test(err));
    expect((await inside(name, 'ls -a /small')).stdout.split('\n').filter((l) => l && l !== '.' && l !== '..'))
      .to.deep.equal([]);
    rmSync(big);
  });

  it('cp copies symlinks as symlinks: a link to the host\'s /etc/shadow, to .., and a dangling one', async () => {
    const src = tempDir('se-cp-');
    try {
      symlinkSync('/etc/shadow', join(src, 'shadow'));
      symlinkSync('..', join(src, 'up'));
      symlinkSync('/nowhere', join(src, 'dangling'));
      writeFileSync(join(src, 'plain'), 'plain\n');
      const r = await cli(['cp', '-r', 'docker', src, `${name}:/tmp/cpdir`], env);
      expect(r.code, r.stderr).to.equal(0);
      const seen = (await inside(name, 'cd /tmp/cpdir && for f in shadow up dangling; do readlink $f; done; ' +
        'cat plain; find /tmp/cpdir | wc -l')).stdout;
      expect(seen).to.equal('/etc/shadow\n..\n/nowhere\nplain\n5\n');
    } finally {
      rmSync(src, { recursive: true, force: true });
      await inside(name, 'rm -rf /tmp/cpdir');
    }
  });

  it('cp refuses a socket or FIFO in the source and leaves no half-copied directory', async () => {
    const src = tempDir('se-cp-');
    const server = createServer();
    try {
      writeFileSync(join(src, 'a'), 'a\n');
      mkdirSync(join(src, 'sub'));
      await new Promise<void>((res) => server.listen(join(src, 'sub', 'sock'), res));
      const r = await cli(['cp', '-r', 'docker', src, `${name}:/tmp/cpsock`], env);
      expect([r.code, r.stderr]).to.satisfy(([code, err]: [number, string]) => code === 2 && err.includes('socket'));
      expect((await inside(name, 'test -e /tmp/cpsock; echo $?')).stdout.trim()).to.equal('1');
    } finally {
      server.close();
      rmSync(src, { recursive: true, force: true });
    }
  });

  it('cp never replaces a device, a FIFO or a bind mount: refused, or written into', async () => {
    const file = join(tempDir('se-cp-'), 'f');
    writeFileSync(file, 'nameserver 192.0.2.1\n');
    await inside(name, 'mkfifo /tmp/fifo');
    for (const dest of ['/dev/null', '/tmp/fifo']) {
      const r = await cli(['cp', '-r', 'docker', file, `${name}:${dest}`], env);
      expect([r.code, r.stderr], dest)
        .to.satisfy(([code, err]: [number, string]) => code === 14 && err.includes('never replaced'));
    }
    expect((await inside(name, 'stat -c %F /dev/null /tmp/fifo')).stdout).to.equal('character special file\nfifo\n');
    expect((await cli(['cp', '-r', 'docker', file, `${name}:/etc/resolv.conf`], env)).code).to.equal(0);
    expect((await inside(name, 'cat /etc/resolv.conf; grep -c " /etc/resolv.conf " /proc/self/mountinfo')).stdout)
      .to.equal('nameserver 192.0.2.1\n1\n');
    await inside(name, 'rm -f /tmp/fifo');
  });

  it('IPC: a forged answer on the 0666 queue is never printed; with no payload it is E_IPC_TIMEOUT', async () => {
    const pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', name]);
    // A process in the container's IPC namespace answers every request with an escape sequence.
    const forger = spawn('python3', ['-c', `
import ctypes, os, time
libc = ctypes.CDLL(None, use_errno=True)
fd = os.open('/proc/${pid}/ns/ipc', os.O_RDONLY)
assert libc.setns(fd, 0x08000000) == 0
msg = b'{"status":200,"uniq":1,"remain":9}\\0\\x1b]0;owned\\x07\\0'
end = time.time() + 8
while time.time() < end:
    q = libc.mq_open(b'/ScopeIPCOut.1', os.O_WRONLY | os.O_NONBLOCK)
    if q >= 0:
        libc.mq_send(q, msg, len(msg), 0); libc.mq_close(q)
    time.sleep(0.005)
`], { stdio: 'ignore' });
    try {
      const r = await cli(['ipc', '-r', 'docker', '--timeout', '1500', name, 'status'], env);
      expect(r.code).to.equal(17);
      expect(r.stdout + r.stderr).not.to.contain('\x1b');
    } finally {
      forger.kill('SIGKILL');
    }
  });

  it('bad input is E_USAGE or E_ID_UNMAPPED before anything runs', async () => {
    expect((await cli(['ipc', '-r', 'docker', '--timeout', 'abc', name, 'status'], env)).code).to.equal(2);
    expect((await cli(['detach', '-r', 'docker', '--wait', '-5', name], env)).code).to.equal(2);
    expect((await cli(['exec', '-r', 'docker', '--user', '', name, '--', 'id', '-u'], env)).code).to.equal(2);
    await inside(name, 'echo "ghost:x::0::/:/bin/sh" >> /etc/passwd');
    const ghost = await cli(['exec', '-r', 'docker', '--user', 'ghost', name, '--', 'id', '-u'], env);
    expect([ghost.code, ghost.stdout]).to.deep.equal([2, '']);
    const unmapped = await cli(['exec', '-r', 'podman', '--user', '70000', 'lab-pod-userns', '--', 'id', '-u'], env);
    expect(unmapped.code).to.equal(13);
  });
});
