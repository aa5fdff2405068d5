import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';
import { FIXTURES } from '../support/replay';
import { tempDir } from '../support/tmp';

/**
 * Out-of-process adapters: the reference procscan plugin through plugins.json against the lab's
 * containers, and every fault a plugin program can commit. After each CLI run, no plugin process
 * and no socket directory may be left.
 */
const ROOT = join(__dirname, '..', '..', '..');
const PROCSCAN = join(ROOT, 'plugins', 'procscan', 'plugins.json');
const FAULTY = join(FIXTURES, 'plugins', 'faulty', 'faulty.js');
const env = { SCOPE_ENGINE_PLUGINS: '' };

/** /tmp/sep-* are the engine's private plugin directories (with the sockets in them). */
const socketDirs = () => readdirSync('/tmp').filter((d) => d.startsWith('sep-'));
const pluginProcesses = (pattern: string) => {
  try {
    return execFileSync('pgrep', ['-f', pattern], { encoding: 'utf8' }).trim();
  } catch {
    return '';
  }
};

function faultyPlugins(fault: string, extra: Record<string, unknown> = {}): string {
  const dir = tempDir('faulty-');
  const file = join(dir, 'plugins.json');
  writeFileSync(file, JSON.stringify({ plugins: [{ name: 'faulty', command: FAULTY, protocol: 'grpc',
    env: { FAULT: fault }, ...extra }] }));
  return file;
}

describe('out-of-process plugins (go-plugin protocol)', function () {
  this.timeout(120_000);
  let dirsBefore: string[];
  beforeEach(() => { dirsBefore = socketDirs(); });
  afterEach(() => {
    expect(socketDirs().filter((d) => !dirsBefore.includes(d)), 'socket directories left behind').to.deep.equal([]);
    expect(pluginProcesses('dist/plugins/procscan/main.js|faulty.js'), 'plugin processes left behind').to.equal('');
  });

  describe('procscan, the reference plugin, against the lab (real daemons)', () => {
    before(async function () {
      await requireRuntime(this, 'docker');
      await requireRuntime(this, 'podman');
    });

    it('runtimes lists it from its plugins file, available', async () => {
      const all = json(await cli(['runtimes', '--plugins', PROCSCAN, '--json'], env));
      expect(all.find((r: any) => r.name === 'procscan'))
        .to.deep.include({ kind: 'command', file: PROCSCAN, available: true });
    });

    it('resolves docker and podman containers by name to the PIDs their tools report', async () => {
      const web = await cli(['resolve', '--runtime', 'procscan', 'lab-web', '--plugins', PROCSCAN], env);
      expect(web.stdout).to.equal(`${tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web'])}\n`);
      const pod = json(await cli(['resolve', '--runtime', 'procscan', 'lab-pod', '--plugins', PROCSCAN,
        '--json'], env));
      expect(pod).to.deep.include({ runtime: 'procscan',
        pid: Number(tool('podman', ['inspect', '-f', '{{.State.Pid}}', 'lab-pod'])) });
      expect(pod.labels['procscan/runtime']).to.equal('podman');
    });

    it('an unknown name is E_NOT_FOUND through the gRPC status code', async () => {
      const r = await cli(['resolve', '--runtime', 'procscan', 'no-such-container', '--plugins', PROCSCAN,
        '--json'], env);
      expect([r.code, json(r).error.code]).to.deep.equal([3, 'E_NOT_FOUND']);
    });

    it('exec works on what it resolves: the engine treats it as any other runtime', async () => {
      const r = await cli(['exec', '--runtime', 'procscan', 'lab-web', '--plugins', PROCSCAN, '--', 'cat',
        '/proc/1/cmdline'], env);
      expect(r.stdout).to.contain('/bin/sleep');
    });

    it('run directly, without the cookie, it says it is a plugin and exits 1', () => {
      let status = 0;
      let stderr = '';
      try {
        execFileSync(join(ROOT, 'dist', 'plugins', 'procscan', 'main.js'),
          { stdio: 'pipe', env: { ...process.env, SCOPE_ENGINE_PLUGIN: '' } });
      } catch (err: any) {
        status = err.status;
        stderr = String(err.stderr);
      }
      expect(status).to.equal(1);
      expect(stderr).to.contain('This binary is a plugin');
    });
  });

  describe('faults', () => {
    const resolveWith = (file: string, ref = 'faulty-self') =>
      cli(['resolve', '--runtime', 'faulty', ref, '--plugins', file, '--json'], env);

    it('a working plugin built on the SDK answers, and maps its errors onto gRPC codes and back', async () => {
      expect(json(await resolveWith(faultyPlugins(''))).name).to.equal('faulty-self');
      expect(json(await resolveWith(faultyPlugins(''), 'other')).error.code).to.equal('E_NOT_FOUND');
    });

    it('exiting before the handshake is E_PLUGIN_EXITED with the tail of its stderr', async () => {
      const r = json(await resolveWith(faultyPlugins('exit-early')));
      expect(r.error.code).to.equal('E_PLUGIN_EXITED');
      expect(r.error.message).to.contain('exited with status 3 before its handshake');
      expect(r.error.message).to.contain('faulty: cannot read my configuration');
    });

    it('printing garbage is E_PLUGIN_HANDSHAKE, saying what it printed', async () => {
      const r = json(await resolveWith(faultyPlugins('garbage')));
      expect(r.error.code).to.equal('E_PLUGIN_HANDSHAKE');
      expect(r.error.message).to.contain('hello from a program that is not a plugin');
    });

    it('never completing the handshake is E_PLUGIN_TIMEOUT after the start timeout', async () => {
      const r = json(await resolveWith(faultyPlugins('silent', { startTimeoutMs: 700 })));
      expect(r.error.code).to.equal('E_PLUGIN_TIMEOUT');
      expect(r.error.message).to.match(/within 700 ms.*starting, slowly/s);
    });

    it('crashing in the middle of a call is E_PLUGIN_EXITED with its last words', async () => {
      const r = json(await resolveWith(faultyPlugins('crash')));
      expect(r.error.code).to.equal('E_PLUGIN_EXITED');
      expect(r.error.message).to.contain('killed by SIGKILL');
      expect(r.error.message).to.contain('about to crash');
    });

    it('never answering a call is E_PLUGIN_TIMEOUT after the call deadline, and the plugin is stopped', async () => {
      const r = json(await resolveWith(faultyPlugins('hang', { callDeadlineMs: 700 })));
      expect(r.error.code).to.equal('E_PLUGIN_TIMEOUT');
      expect(r.error.message).to.contain('did not answer Resolve within 700 ms');
    });

    it('the engine goes on serving the other adapters', async function () {
      await requireRuntime(this, 'docker');
      const r = json(await cli(['ps', '--runtime', 'all', '--plugins', faultyPlugins('exit-early'), '--json'], env));
      expect(r.containers.some((c: any) => c.runtime === 'docker' && c.name === 'lab-web')).to.equal(true);
      expect(r.unavailable.find((u: any) => u.runtime === 'faulty').reason).to.contain('before its handshake');
    });
  });
});
