import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { join } from 'node:path';
import { CLI, type CliResult } from '../support/cli';
import { requireRuntime } from '../support/lab';
import { FIXTURES } from '../support/replay';
import { tempDir } from '../support/tmp';

/**
 * Fault cases from the issue tracker, through the CLI as a user meets them: plugin modules and
 * programs that never settle, flood or leave children behind, and an engine killed mid-call.
 * Every run is bounded: a CLI that does not exit within its limit is killed and fails the test.
 */
const FAULTS = join(FIXTURES, 'plugins', 'faults');
const FAULTY = join(FIXTURES, 'plugins', 'faulty', 'faulty.js');
const scratch: string[] = [];

/** Runs the CLI, killing it (and failing) if it has not exited within `limitMs`. */
function run(args: string[], env: Record<string, string> = {},
  limitMs = 20_000): Promise<CliResult & { ms: number; timedOut: boolean }> {
  const started = Date.now();
  const child = spawn(process.execPath, [CLI, ...args], {
    env: { ...process.env, NODE_EXTRA_CA_CERTS: '', SCOPE_ENGINE_PLUGINS: '', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => { stdout += d; });
  child.stderr.on('data', (d) => { stderr += d; });
  let timedOut = false;
  const limit = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, limitMs);
  return new Promise((resolve) => child.on('exit', (code, signal) => {
    clearTimeout(limit);
    resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr, ms: Date.now() - started, timedOut });
  }));
}

function pluginsFile(plugins: object[]): string {
  const dir = tempDir('flt-plugins-');
  scratch.push(dir);
  const file = join(dir, 'plugins.json');
  writeFileSync(file, JSON.stringify({ plugins }));
  return file;
}

/** A unix socket the fault fixtures report to; `next()` is the next connection and its first line. */
function notifyServer(): { path: string; server: Server;
  next: () => Promise<{ msg: { pid: number; dir: string }; conn: Socket }> } {
  const dir = tempDir('flt-notify-');
  scratch.push(dir);
  const path = join(dir, 'n.sock');
  const waiting: ((v: { msg: any; conn: Socket }) => void)[] = [];
  const server = createServer((conn) => {
    let buf = '';
    conn.on('data', (d) => {
      buf += d;
      if (buf.includes('\n')) waiting.shift()?.({ msg: JSON.parse(buf.split('\n')[0]), conn });
    });
    conn.on('error', () => undefined);
  }).listen(path);
  return { path, server, next: () => new Promise((resolve) => waiting.push(resolve)) };
}

const closed = (conn: Socket) =>
  new Promise<void>((resolve) => (conn.destroyed ? resolve() : conn.once('close', () => resolve())));

after(() => {
  for (const d of scratch) rmSync(d, { recursive: true, force: true });
});

describe('faults: plugin modules that never settle', function () {
  this.timeout(60_000);

  it('an import whose top-level await never settles is E_PLUGIN_TIMEOUT naming file and entry, ' +
    'not exit 0', async () => {
    const file = pluginsFile([{ name: 'never', module: join(FAULTS, 'import-never.mjs'), importTimeoutMs: 500 }]);
    const r = await run(['resolve', '--runtime', 'never', 'web', '--plugins', file, '--json']);
    expect(r.timedOut).to.equal(false);
    expect(r.code, r.stderr).to.equal(21);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).to.equal('E_PLUGIN_TIMEOUT');
    expect(err.message).to.contain(file).and.to.contain('entry 0 ("never")').and.to.contain('within 500 ms');
  });

  it('an import waiting on a timer does not hang the CLI: E_PLUGIN_TIMEOUT, and it exits', async () => {
    const file = pluginsFile([{ name: 'timer', module: join(FAULTS, 'import-timer.mjs'), importTimeoutMs: 500 }]);
    const r = await run(['resolve', '--runtime', 'timer', 'web', '--plugins', file], {}, 10_000);
    expect(r.timedOut, 'the CLI did not exit').to.equal(false);
    expect(r.code).to.equal(21);
    expect(r.stderr).to.contain('E_PLUGIN_TIMEOUT').and.to.contain('entry 0 ("timer")');
  });

  it('SCOPE_ENGINE_IMPORT_TIMEOUT_MS sets the import timeout when the entry does not', async () => {
    const file = pluginsFile([{ name: 'never', module: join(FAULTS, 'import-never.mjs') }]);
    const r = await run(['resolve', '--runtime', 'never', 'web', '--plugins', file],
      { SCOPE_ENGINE_IMPORT_TIMEOUT_MS: '300' });
    expect([r.code, r.stderr]).to.satisfy(([c, e]: [number, string]) => c === 21 && e.includes('within 300 ms'));
  });

  describe('with the lab', () => {
    before(async function () {
      await requireRuntime(this, 'docker');
    });

    it('a module that did not load is an unavailable runtime: the others still answer', async () => {
      const file = pluginsFile([{ name: 'never', module: join(FAULTS, 'import-never.mjs'), importTimeoutMs: 300 }]);
      const r = await run(['ps', '--runtime', 'all', '--plugins', file, '--json']);
      const out = JSON.parse(r.stdout);
      expect(out.containers.some((c: any) => c.runtime === 'docker' && c.name === 'lab-web')).to.equal(true);
      expect(out.unavailable.find((u: any) => u.runtime === 'never').reason).to.contain('within 300 ms');
    });

    it('methods that never settle delay --runtime auto by their callDeadlineMs only, and the CLI exits', async () => {
      const file = pluginsFile([{ name: 'hung', module: join(FAULTS, 'hung-methods.js'), callDeadlineMs: 500 }]);
      const r = await run(['resolve', 'lab-web', '--plugins', file, '--json'], {}, 15_000);
      expect(r.timedOut, 'the CLI did not exit').to.equal(false);
      expect(JSON.parse(r.stdout)).to.deep.include({ runtime: 'docker', name: 'lab-web' });
      expect(r.ms).to.be.below(4_000);
    });

    it('by default a hung module costs auto a few seconds, not 30', async () => {
      const file = pluginsFile([{ name: 'hung', module: join(FAULTS, 'hung-methods.js') }]);
      const r = await run(['resolve', 'lab-web', '--plugins', file, '--json'], {}, 25_000);
      expect(JSON.parse(r.stdout)).to.deep.include({ runtime: 'docker' });
      expect(r.ms).to.be.below(9_000);
    });
  });
});

describe('faults: plugin programs', function () {
  this.timeout(60_000);
  const faulty = (fault: string, env: Record<string, string> = {}, extra: object = {}) =>
    pluginsFile([{ name: 'faulty', command: FAULTY, protocol: 'grpc', env: { FAULT: fault, ...env }, ...extra }]);

  it('a child that keeps the plugin\'s stdout open is ended with it, and the engine exits', async () => {
    const notify = notifyServer();
    try {
      const running = run(['resolve', '--runtime', 'faulty', 'x', '--plugins',
        faulty('orphan', { NOTIFY: notify.path }), '--json'], {}, 15_000);
      const child = await notify.next();
      const r = await running;
      expect(r.timedOut, 'the engine did not exit').to.equal(false);
      expect(JSON.parse(r.stdout).error.code).to.equal('E_PLUGIN_EXITED');
      await closed(child.conn); // the orphan-to-be is dead: its end of the connection was closed by the kernel
    } finally {
      notify.server.close();
    }
  });

  it('50 MB on stdout without a newline is E_PLUGIN_HANDSHAKE at once, not a hang', async () => {
    const r = await run(['resolve', '--runtime', 'faulty', 'x', '--plugins',
      faulty('flood', {}, { startTimeoutMs: 30_000 }), '--json'], {}, 20_000);
    expect(r.timedOut, 'the engine did not exit').to.equal(false);
    const err = JSON.parse(r.stdout).error;
    expect(err.code).to.equal('E_PLUGIN_HANDSHAKE');
    expect(err.message).to.contain('longer than');
  });

  it('the socket directory of an engine killed by SIGKILL is removed by the next engine', async () => {
    const notify = notifyServer();
    try {
      const child = spawn(process.execPath, [CLI, 'resolve', '--runtime', 'faulty', 'faulty-self', '--plugins',
        faulty('hang', { NOTIFY: notify.path })],
        { env: { ...process.env, SCOPE_ENGINE_PLUGINS: '' }, stdio: 'ignore' });
      const engineGone = new Promise((resolve) => child.on('exit', resolve));
      const plugin = await notify.next();
      expect(existsSync(plugin.msg.dir), 'the plugin names its socket directory').to.equal(true);
      child.kill('SIGKILL');
      await engineGone;
      await closed(plugin.conn); // the plugin died with the engine
      const next = await run(['resolve', '--runtime', 'faulty', 'faulty-self', '--plugins', faulty('')]);
      expect(next.code, next.stderr).to.equal(0);
      expect(existsSync(plugin.msg.dir), `${plugin.msg.dir} left behind`).to.equal(false);
    } finally {
      notify.server.close();
    }
  });
});

describe('faults: runtimes that cannot be reached, with the lab', function () {
  this.timeout(60_000);
  before(async function () {
    await requireRuntime(this, 'docker');
    await requireRuntime(this, 'podman');
  });

  it('one unparsable CONTAINER_HOST leaves ps --runtime all to the others, and names itself', async () => {
    const r = await run(['ps', '--runtime', 'all', '--json'], { CONTAINER_HOST: 'podman.example:1234' });
    expect(r.code, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.containers.some((c: any) => c.runtime === 'docker' && c.name === 'lab-web')).to.equal(true);
    expect(out.unavailable.find((u: any) => u.runtime === 'podman').reason).to.contain('CONTAINER_HOST');
    const pod = await run(['resolve', '--runtime', 'podman', 'lab-pod'], { CONTAINER_HOST: 'podman.example:1234' });
    expect([pod.code, pod.stderr]).to.satisfy(([c, e]: [number, string]) => c === 6 && e.includes('CONTAINER_HOST'));
  });

  it('docker, containerd and LXD that accept and never answer delay auto by one daemon timeout', async () => {
    const dir = tempDir('flt-silent-');
    scratch.push(dir);
    const path = join(dir, 'silent.sock');
    const conns = new Set<Socket>();
    const server = createServer((c) => { conns.add(c); c.on('error', () => undefined); });
    await new Promise<void>((resolve) => server.listen(path, resolve));
    try {
      const r = await run(['resolve', 'lab-pod', '--json'], {
        DOCKER_HOST: `unix://${path}`, CONTAINERD_ADDRESS: path, LXD_SOCKET: path,
        SCOPE_ENGINE_DAEMON_TIMEOUT_MS: '1000',
      }, 30_000);
      expect(JSON.parse(r.stdout), r.stderr).to.deep.include({ runtime: 'podman', name: 'lab-pod' });
      expect(r.ms).to.be.below(4_500);
    } finally {
      for (const c of conns) c.destroy();
      server.close();
    }
  });
});
