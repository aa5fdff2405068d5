import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CLI, cli, json } from '../support/cli';
import { requireRuntime, skipOrFail, tool } from '../support/lab';
import { tempDir } from '../support/tmp';

/**
 * Interop: a plugin written in Go against Debian's golang-github-hashicorp-go-plugin-dev (1.0.1,
 * GOPATH mode), built by the lab (test/lab/go-plugin.sh), hosted unchanged by the engine.
 */
const GO_PLUGIN = '/var/lib/scope-lab/go-plugin/go-cgroup';

describe('a Go plugin on hashicorp/go-plugin 1.0.1 (built by the lab)', function () {
  let plugins: string;
  const env = { SCOPE_ENGINE_PLUGINS: '' };

  before(async function () {
    if (!existsSync(GO_PLUGIN)) skipOrFail(this, `${GO_PLUGIN} is not built; run bash test/lab/setup.sh`);
    await requireRuntime(this, 'docker');
    const dir = tempDir('go-plugin-');
    plugins = join(dir, 'plugins.json');
    writeFileSync(plugins, JSON.stringify({ plugins: [{ name: 'go-cgroup', command: GO_PLUGIN, protocol: 'grpc' }] }));
  });

  it('completes the handshake, answers health and Probe', async () => {
    const all = json(await cli(['runtimes', '--plugins', plugins, '--json'], env));
    expect(all.find((r: any) => r.name === 'go-cgroup'))
      .to.deep.include({ available: true, version: 'go-plugin-1.0.1' });
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

  it('dies with an engine killed by SIGKILL (go-plugin itself would leave it running)', async () => {
    // An engine that loads the plugin, says so, and waits to be killed.
    const library = join(CLI, '..', '..', 'core', 'index.js');
    const engine = spawn(process.execPath, ['-e', `
      require('reflect-metadata');
      require(${JSON.stringify(library)}).createEngine({ plugins: [${JSON.stringify(plugins)}], ` +
        `env: { ...process.env, SCOPE_ENGINE_PLUGINS: '' } })
        .then((e) => e.runtime('go-cgroup').probe()).then(() => process.stdout.write('ready\\n'));
      setInterval(() => {}, 60000);`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve, reject) => {
        engine.stdout!.once('data', resolve);
        engine.once('exit', (code) => reject(new Error(`the engine exited (${code}) before loading the plugin`)));
      });
      const plugin = childrenOf(engine.pid!)
        .find((pid) => readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'go-cgroup');
      expect(plugin, 'the plugin runs as a child of the engine').to.be.a('number');
      engine.kill('SIGKILL');
      // The kernel's SIGKILL comes at once; 5 s is room for a loaded machine, not a measure.
      for (let i = 0; i < 50 && existsSync(`/proc/${plugin}`) && !isZombie(plugin!); i++)
        await new Promise((r) => setTimeout(r, 100));
      expect(existsSync(`/proc/${plugin}`) && !isZombie(plugin!), `plugin PID ${plugin} still running`).to.equal(false);
    } finally {
      engine.kill('SIGKILL');
    }
  });
});

/** The fields of /proc/PID/stat after "PID (COMM) ": state, ppid, ...; undefined once PID is gone. */
function statFields(pid: number): string[] | undefined {
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ');
  } catch {
    return undefined;
  }
}

/** The PIDs whose parent is `ppid`, from /proc. */
function childrenOf(ppid: number): number[] {
  return readdirSync('/proc').filter((d) => /^\d+$/.test(d)).map(Number)
    .filter((pid) => Number(statFields(pid)?.[1]) === ppid);
}

function isZombie(pid: number): boolean {
  return (statFields(pid)?.[0] ?? 'Z') === 'Z';
}
