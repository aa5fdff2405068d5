import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';

/**
 * Interop: a plugin written in Go against Debian's golang-github-hashicorp-go-plugin-dev (1.0.1,
 * GOPATH mode), built by the lab (test/lab/go-plugin.sh), hosted unchanged by the engine.
 */
const GO_PLUGIN = '/var/lib/scope-lab/go-plugin/go-cgroup';

describe('a Go plugin on hashicorp/go-plugin 1.0.1 (built by the lab)', function () {
  let plugins: string;
  const env = { SCOPE_ENGINE_PLUGINS: '' };

  before(async function () {
    if (!existsSync(GO_PLUGIN)) {
      const why = `${GO_PLUGIN} is not built; run bash test/lab/setup.sh`;
      if (process.env.CI === 'true') throw new Error(`CI: ${why}`);
      process.stderr.write(`  skipping: ${why}\n`);
      this.skip();
    }
    await requireRuntime(this, 'docker');
    const dir = mkdtempSync(join(tmpdir(), 'go-plugin-'));
    plugins = join(dir, 'plugins.json');
    writeFileSync(plugins, JSON.stringify({ plugins: [{ name: 'go-cgroup', command: GO_PLUGIN, protocol: 'grpc' }] }));
  });

  it('completes the handshake, answers health and Probe', async () => {
    const all = json(await cli(['runtimes', '--plugins', plugins, '--json'], env));
    expect(all.find((r: any) => r.name === 'go-cgroup')).to.deep.include({ available: true, version: 'go-plugin-1.0.1' });
  });

  it('resolves the docker container by ID prefix to the PID docker inspect reports', async () => {
    const id = tool('docker', ['inspect', '-f', '{{.Id}}', 'lab-web']);
    const r = await cli(['resolve', '--runtime', 'go-cgroup', id.slice(0, 12), '--plugins', plugins], env);
    expect(r.stdout).to.equal(`${tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web'])}\n`);
  });

  it('its gRPC status codes become the engine\'s: NotFound is E_NOT_FOUND', async () => {
    const r = await cli(['resolve', '--runtime', 'go-cgroup', 'ffffffffffff', '--plugins', plugins, '--json'], env);
    expect(json(r).error.code).to.equal('E_NOT_FOUND');
  });

  it('its hclog lines reach the engine\'s log, and it leaves no socket behind', async () => {
    const before = readdirSync('/tmp').filter((d) => d.startsWith('sep-'));
    const r = await cli(['ps', '--runtime', 'go-cgroup', '--plugins', plugins], { ...env, SCOPE_ENGINE_LOG: 'debug' });
    expect(r.stderr).to.match(/scope-engine\[plugin go-cgroup\] DEBUG plugin address/);
    expect(readdirSync('/tmp').filter((d) => d.startsWith('sep-') && !before.includes(d))).to.deep.equal([]);
  });
});
