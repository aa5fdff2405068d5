import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { labRow, requireRuntime, skipOrFail } from '../support/lab';
import { tempDir } from '../support/tmp';
import { AGENT_CAPABILITIES, ulimitFlags } from '../../testing/in-image';

/**
 * The node agent image (`npm run image`, deploy/image/build.sh) as docker and podman hold it: what is
 * in it and what is not, its size, and the engine in it at work on the lab's containers with the
 * README's flags: the host's PIDs, the capability set and the host's root (host-root mode).
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
/** The lab's busybox image (test/lab/lib.sh), for a target container of this test's own. */
const LAB_IMAGE = 'scope-lab-busybox';
/** What an image that is only the engine never holds: a shell, a package manager, a compiler, a build tool. */
const FORBIDDEN = /(^|\/)(sh|bash|dash|npm|npx|node-gyp|gcc|cc|g\+\+|c\+\+|ld|make|tsc|apt|apt-get|dpkg)$/;
const DEV_ONLY = /(^|\/)node_modules\/(npm|node-gyp|typescript|mocha|chai|@types\/mocha)\//;
/** The README's capability set, as the matrix's agent runs with it. */
const CAPS = AGENT_CAPABILITIES;

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

let made = 0;
/** A name of our own for each container this test makes: other test runs share the machine. */
const uniqueName = () => `scope-image-test-${process.pid}-${made++}`;

/**
 * The README's line: the engine in the image with the host's PIDs, the capability set (one --cap-add
 * each unless `caps` says otherwise) and the host's root, read-only, in host-root mode.
 */
function agent(rt: string, args: string[], opts: { caps?: string[]; flags?: string[] } = {}): Promise<Ran> {
  return run(rt, ['run', '--rm', '--name', uniqueName(), '--pid=host', '--network', 'none', '--cap-drop', 'ALL',
    ...(opts.caps ?? CAPS.flatMap((c) => ['--cap-add', c])), ...(opts.flags ?? []), '-v', '/:/hostfs:ro',
    `${IMAGE}:latest`, '--host-root', '/hostfs', ...args]);
}

/** Skips (outside CI) or fails (CI=true) when `rt` has no image of this version: the lab builds it. */
async function requireImage(ctx: Context, rt: string): Promise<void> {
  if ((await run(rt, ['image', 'inspect', `${IMAGE}:${VERSION}`])).code === 0) return;
  skipOrFail(ctx, `${rt} has no image ${IMAGE}:${VERSION}; run npm run image ` +
    '(or LAB_RUNTIMES="cri image" bash test/lab/setup.sh after npm ci)');
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
      const all = await paths(rt, uniqueName());
      for (const p of ['usr/bin/node', 'usr/bin/env', 'usr/local/bin/scope-engine', 'opt/scope-engine/dist/cli/main.js',
        'opt/scope-engine/native/build/Release/scope_native.node', 'opt/scope-engine/native/build/Release/scope-exec',
        'opt/scope-engine/native/build/Release/scope-probe', 'opt/scope-engine/native/build/Release/scope-trace-probe',
        'opt/scope-engine/node_modules/@grpc/grpc-js']) {
        expect(all, p).to.include(p);
      }
      expect(all.filter((p) => FORBIDDEN.test(p) || DEV_ONLY.test(p))).to.deep.equal([]);
    });

    it('--version says package.json\'s version; --help and runtimes work', async () => {
      expect(await agent(rt, ['--version'])).to.deep.include({ code: 0, stdout: `${VERSION}\n` });
      const help = await agent(rt, ['--help']);
      expect(help.code).to.equal(0);
      expect(help.stdout).to.contain('Usage: scope-engine');
      const runtimes = await agent(rt, ['runtimes', '--json']);
      expect(runtimes.code, runtimes.stderr).to.equal(0);
      const mine = (JSON.parse(runtimes.stdout) as { name: string; available: boolean }[]).find((r) => r.name === rt);
      expect(mine?.available, `${rt} through its socket under the host's root`).to.equal(true);
    });

    it(`scope-engine is on PATH for ${rt} exec (its #!/usr/bin/env node line works)`, async () => {
      // A container of the image kept running by node itself: there is no shell or sleep in it.
      const kept = uniqueName();
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
      const r = await agent(rt, ['exec', '--runtime', rt, row.running, '--', 'sh', '-c', 'id; hostname'], { caps });
      expect(r.stderr).to.equal('');
      const [id, host] = r.stdout.trim().split('\n');
      expect(r.code).to.equal(0);
      expect(id).to.match(/^uid=0\(root\) gid=0\(root\)/);
      expect(host).to.equal(await tool(rt, ['exec', row.running, 'hostname']));
    });
  });
}

describe('the node agent image runs the built-in payload (docker)', function () {
  // A container of this test's own, from the lab's image: other test runs start and stop probes in
  // the lab's containers, and a stop finds a probe by its install's lock file, whoever started it.
  const target = uniqueName();

  before(async function () {
    await requireRuntime(this, 'docker');
    await requireImage(this, 'docker');
    await tool('docker', ['run', '-d', '--name', target, '--network', 'none', LAB_IMAGE, '/bin/sleep', '1000000']);
  });

  after(async () => {
    await run('docker', ['rm', '-f', target]);
  });

  it('without --pid=host, refuses before doing anything, saying how to run it (E_PERMISSION, exit 7)', async () => {
    const r = await run('docker', ['run', '--rm', '--name', uniqueName(), '--network', 'none', '--cap-drop', 'ALL',
      ...CAPS.flatMap((c) => ['--cap-add', c]), '-v', '/:/hostfs:ro', `${IMAGE}:latest`, '--host-root', '/hostfs',
      '--json', 'run', '-d', '--runtime', 'docker', target]);
    expect(r.code, r.stderr).to.equal(7);
    const { error } = JSON.parse(r.stdout) as { error: { code: string; message: string } };
    expect(error.code).to.equal('E_PERMISSION');
    expect(error.message).to.contain('--pid=host').and.to.contain('hostPID: true');
    expect(await tool('docker', ['exec', target, 'ls', '/usr/lib'])).not.to.contain('scope-engine');
  });

  it('doctor in an agent that can read no host process warns it cannot tell the host root, not "on the host"',
    async () => {
      const r = await run('docker', ['run', '--rm', '--name', uniqueName(), '--pid=host', '--network', 'none',
        '--cap-drop', 'ALL', '--cap-add', 'SYS_ADMIN', `${IMAGE}:latest`, 'doctor', '--json']);
      const checks = (JSON.parse(r.stdout) as { checks: { id: string; status: string; summary: string }[] }).checks;
      const hostRoot = checks.find((c) => c.id === 'host-root');
      expect(hostRoot?.status, r.stdout).to.equal('warn');
      expect(hostRoot?.summary).to.contain('cannot tell');
    });

  it('run -d starts scope-probe, which outlives the engine\'s container and answers ipc; stop ends it', async () => {
    const started = await agent('docker', ['run', '-d', '--runtime', 'docker', target]);
    expect(started.code, started.stderr).to.equal(0);
    const loader = Number(/loader PID (\d+)/.exec(started.stderr + started.stdout)?.[1]);
    expect(loader, started.stderr).to.be.above(0);
    // The engine's container is gone (--rm); the probe is in the target's cgroup, not in that one.
    expect(existsSync(`/proc/${loader}`), 'the loader outlived the engine').to.equal(true);
    const status = await agent('docker', ['ipc', '--runtime', 'docker', target, 'status']);
    expect(status.code, status.stderr).to.equal(0);
    expect(JSON.parse(status.stdout)).to.deep.include({ probe: 'scope-probe', attached: true });
    const stopped = await agent('docker', ['stop', '--runtime', 'docker', target]);
    expect(stopped.code, stopped.stderr).to.equal(0);
    expect(stopped.stdout + stopped.stderr).to.contain('stopped loader PID');
    expect(existsSync(`/proc/${loader}`), 'the loader is gone').to.equal(false);
    expect(await tool('docker', ['exec', target, 'ps'])).not.to.contain('scope-probe');
  });
});

describe('the node agent image on containerd (ctr), its limits no lower than its targets\'', function () {
  const row = labRow('containerd - ctr');

  before(async function () {
    await requireRuntime(this, 'ctr');
    await requireImage(this, 'docker');
  });

  it(`exec id runs in ${row.running} with the host's nproc and nofile limits`, async () => {
    // The lab's dockerd gives containers 1024 of each, below what containerd's own containers have.
    const r = await agent('docker', ['exec', '--runtime', 'ctr', row.running, '--', 'id'], { flags: ulimitFlags() });
    expect(r.stderr).to.equal('');
    expect(r).to.deep.include({ code: 0 });
    expect(r.stdout).to.match(/^uid=0\(root\) gid=0\(root\)/);
  });
});
