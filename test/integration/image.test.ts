import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { labRow, requireRuntime } from '../support/lab';
import { tempDir } from '../support/tmp';

/**
 * The node agent image (`npm run image`, deploy/image/build.sh) as docker and podman hold it: what is
 * in it and what is not, its size, and the engine in it at work on the lab's containers with the
 * README's flags: the host's PIDs, the capability set, no seccomp filter of its own, the host's
 * cgroups, and the runtime's socket.
 */

const VERSION: string = require('../../../package.json').version;
const IMAGE = 'scope-engine';
/**
 * node is about 86 MB stripped (99 MB where strip is missing), its libraries 6 MB, the package with its
 * production dependencies 17 MB, classic LXC's tools 4 MB: about 110 MB, 125 MB unstripped. A
 * distribution's base layer (Debian's is 120 MB) or a compiler (gcc's cc1 alone is 30 MB) would
 * pass this bound, which leaves room for the dependencies to grow.
 */
const MAX_BYTES = 150_000_000;
/** What an image that is only the engine never holds: a shell, a package manager, a compiler, a build tool. */
const FORBIDDEN = /(^|\/)(sh|bash|dash|npm|npx|node-gyp|gcc|cc|g\+\+|c\+\+|ld|make|tsc|apt|apt-get|dpkg)$/;
const DEV_ONLY = /(^|\/)node_modules\/(npm|node-gyp|typescript|mocha|chai|@types\/mocha)\//;
/**
 * The README's capability set: the engine's own (joining namespaces, reading other users' /proc,
 * becoming the target's user, its bounding set) and every capability docker and podman give a
 * container by default, since the program is given the target's and capset can only lower them.
 */
const CAPS = ['SYS_ADMIN', 'SYS_CHROOT', 'SYS_PTRACE', 'SETUID', 'SETGID', 'KILL', 'DAC_OVERRIDE', 'SETPCAP',
  'CHOWN', 'FOWNER', 'FSETID', 'MKNOD', 'NET_RAW', 'NET_BIND_SERVICE', 'SETFCAP', 'AUDIT_WRITE'];
const SOCKETS: Record<string, string> = { docker: '/run/docker.sock', podman: '/run/podman/podman.sock' };

interface Ran { code: number; stdout: string; stderr: string }

function run(cmd: string, args: string[]): Promise<Ran> {
  return new Promise((resolve) => {
    execFile(cmd, args, { encoding: 'utf8', timeout: 60_000, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

/** Runs a runtime's command; a failure says what it printed. */
async function tool(cmd: string, args: string[]): Promise<string> {
  const r = await run(cmd, args);
  if (r.code !== 0) throw new Error(`${cmd} ${args.join(' ')}: exit ${r.code}\n${r.stderr}`);
  return r.stdout.trim();
}

/** Skips (outside CI) or fails (CI=true) when `rt` has no image of this version: the lab builds it. */
async function requireImage(ctx: Context, rt: string): Promise<void> {
  if ((await run(rt, ['image', 'inspect', `${IMAGE}:${VERSION}`])).code === 0) return;
  const why = `${rt} has no image ${IMAGE}:${VERSION}; run npm run image ` +
    '(or LAB_RUNTIMES="cri image" bash test/lab/setup.sh after npm ci)';
  if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
  process.stderr.write(`  skipping: ${why}\n`);
  ctx.skip();
}

/**
 * The paths in the image, as the runtime exports a container made from it (never started). Through a
 * file: podman opens /dev/stdout to write an export, which fails on the socket a child's stdout is.
 */
async function paths(rt: string, name: string): Promise<string[]> {
  const file = join(tempDir('scope-image-test-'), 'export.tar');
  await tool(rt, ['create', '--name', name, `${IMAGE}:${VERSION}`]);
  try {
    await tool(rt, ['export', '--output', file, name]);
  } finally {
    await run(rt, ['rm', '-f', name]);
  }
  try {
    return (await tool('tar', ['-tf', file])).split('\n').map((p) => p.replace(/^\.\//, '').replace(/\/$/, ''));
  } finally {
    rmSync(file);
  }
}

for (const rt of ['docker', 'podman']) {
  describe(`the node agent image in ${rt}`, function () {
    const row = labRow(rt);
    let n = 0;
    const name = () => `scope-image-test-${process.pid}-${n++}`;
    /** The engine in the image, as the README runs it, against the host's `rt`. */
    const agent = (args: string[], caps = CAPS.flatMap((c) => ['--cap-add', c])) => run(rt, ['run', '--rm',
      '--name', name(), '--pid=host', '--network', 'none', '--cap-drop', 'ALL', ...caps,
      '--security-opt', 'seccomp=unconfined', '-v', '/sys/fs/cgroup:/sys/fs/cgroup',
      '-v', `${SOCKETS[rt]}:${SOCKETS[rt]}`, `${IMAGE}:latest`, ...args]);

    before(async function () {
      await requireRuntime(this, rt);
      await requireImage(this, rt);
    });

    it(`${IMAGE}:latest is ${IMAGE}:${VERSION}, labelled with that version`, async () => {
      const id = (ref: string) => tool(rt, ['image', 'inspect', '--format', '{{.Id}}', ref]);
      expect(await id(`${IMAGE}:latest`)).to.equal(await id(`${IMAGE}:${VERSION}`));
      expect(await tool(rt, ['image', 'inspect', '--format',
        '{{index .Config.Labels "org.opencontainers.image.version"}}', `${IMAGE}:${VERSION}`])).to.equal(VERSION);
    });

    it(`is under ${MAX_BYTES / 1e6} MB`, async () => {
      const size = Number(await tool(rt, ['image', 'inspect', '--format', '{{.Size}}', `${IMAGE}:${VERSION}`]));
      expect(size).to.be.above(0).and.at.most(MAX_BYTES);
    });

    it('holds node, the engine and its native helpers, and no shell, npm, compiler or dev dependency', async () => {
      const all = await paths(rt, name());
      for (const p of ['usr/bin/node', 'usr/bin/env', 'usr/local/bin/scope-engine', 'opt/scope-engine/dist/cli/main.js',
        'opt/scope-engine/native/build/Release/scope_native.node', 'opt/scope-engine/native/build/Release/scope-exec',
        'opt/scope-engine/native/build/Release/scope-probe', 'opt/scope-engine/node_modules/@grpc/grpc-js']) {
        expect(all, p).to.include(p);
      }
      expect(all.filter((p) => FORBIDDEN.test(p) || DEV_ONLY.test(p))).to.deep.equal([]);
    });

    it('--version says package.json\'s version; --help and runtimes work', async () => {
      expect(await agent(['--version'])).to.deep.include({ code: 0, stdout: `${VERSION}\n` });
      const help = await agent(['--help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.contain('Usage: scope-engine');
      const runtimes = await agent(['runtimes', '--json']);
      expect(runtimes.code, runtimes.stderr).to.equal(0);
      const mine = (JSON.parse(runtimes.stdout) as { name: string; available: boolean }[]).find((r) => r.name === rt);
      expect(mine?.available, `${rt} through the mounted socket`).to.equal(true);
    });

    it(`scope-engine is on PATH for ${rt} exec (its #!/usr/bin/env node line works)`, async () => {
      // A container of the image kept running by node itself: there is no shell or sleep in it.
      const kept = name();
      await tool(rt, ['run', '-d', '--name', kept, '--network', 'none', '--entrypoint', '/usr/bin/node',
        `${IMAGE}:latest`, '-e', 'setTimeout(() => {}, 600000)']);
      try {
        expect(await tool(rt, ['exec', kept, 'scope-engine', '--version'])).to.equal(VERSION);
      } finally {
        // node as PID 1 ignores SIGTERM: podman would wait 10 s for it (docker's rm -f kills at once).
        await run(rt, ['rm', '-f', ...(rt === 'podman' ? ['--time', '0'] : []), kept]);
      }
    });

    it(`exec id runs in ${row.running} with the capability set, as its root, in its namespaces`, async () => {
      // podman takes a comma-separated list too, which the README shows for it; docker 20.10 does not.
      const caps = rt === 'podman' ? ['--cap-add', CAPS.join(',')] : undefined;
      const r = await agent(['exec', '--runtime', rt, row.running, '--', 'sh', '-c', 'id; hostname'], caps);
      expect(r.stderr).to.equal('');
      const [id, host] = r.stdout.trim().split('\n');
      expect(r.code).to.equal(0);
      expect(id).to.match(/^uid=0\(root\) gid=0\(root\)/);
      expect(host).to.equal(await tool(rt, ['exec', row.running, 'hostname']));
    });
  });
}

describe('the node agent image runs the built-in payload (docker)', function () {
  const row = labRow('docker');
  let n = 0;
  const agent = (args: string[]) => run('docker', ['run', '--rm', '--name', `scope-image-test-${process.pid}-p${n++}`,
    '--pid=host', '--network', 'none', '--cap-drop', 'ALL', ...CAPS.flatMap((c) => ['--cap-add', c]),
    '--security-opt', 'seccomp=unconfined', '-v', '/sys/fs/cgroup:/sys/fs/cgroup',
    '-v', `${SOCKETS.docker}:${SOCKETS.docker}`, `${IMAGE}:latest`, ...args]);

  before(async function () {
    await requireRuntime(this, 'docker');
    await requireImage(this, 'docker');
  });

  after(async () => {
    // Whatever the tests did, no probe of ours is left in the lab's container.
    await agent(['stop', '--runtime', 'docker', row.running]);
  });

  it('run -d starts scope-probe, which outlives the engine\'s container and answers ipc; stop ends it', async () => {
    const started = await agent(['run', '-d', '--runtime', 'docker', row.running]);
    expect(started.code, started.stderr).to.equal(0);
    const loader = Number(/loader PID (\d+)/.exec(started.stderr + started.stdout)?.[1]);
    expect(loader, started.stderr).to.be.above(0);
    // The engine's container is gone (--rm); the probe is in the target's cgroup, not in that one.
    expect(existsSync(`/proc/${loader}`), 'the loader outlived the engine').to.equal(true);
    const status = await agent(['ipc', '--runtime', 'docker', row.running, 'status']);
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.deep.include({ probe: 'scope-probe', attached: true });
    const stopped = await agent(['stop', '--runtime', 'docker', row.running]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stdout + stopped.stderr).to.contain('stopped loader PID');
    const ps = await tool('docker', ['exec', row.running, 'ps']);
    expect(ps).not.to.contain('scope-probe');
  });
});
