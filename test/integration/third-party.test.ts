import { expect } from 'chai';
import { join } from 'node:path';
import { cli, json } from '../support/cli';
import { requireRuntime, tool } from '../support/lab';
import { FIXTURES } from '../support/replay';

/**
 * A third-party in-process adapter (fixtures/plugins/docker-cli, plain JavaScript that drives the
 * docker command) loaded from a file given with --plugins, against the lab's real containers.
 */
describe('third-party in-process adapter via --plugins', function () {
  const plugins = join(FIXTURES, 'plugins', 'docker-cli.plugins.json');
  const env = { SCOPE_ENGINE_PLUGINS: '' };

  before(async function () {
    await requireRuntime(this, 'docker');
  });

  it('runtimes lists it with the file it came from, available', async () => {
    const all = json(await cli(['runtimes', '--plugins', plugins, '--json'], env));
    const mine = all.find((r: any) => r.name === 'docker-cli');
    expect(mine).to.deep.include({ kind: 'module', source: './docker-cli/index.js', file: plugins, available: true });
  });

  it('resolve uses it', async () => {
    const r = await cli(['resolve', '--runtime', 'docker-cli', 'lab-web', '--plugins', plugins, '--json'], env);
    expect(json(r)).to.deep.include({ runtime: 'docker-cli', name: 'lab-web',
      pid: Number(tool('docker', ['inspect', '-f', '{{.State.Pid}}', 'lab-web'])) });
  });

  it('its errors keep their codes: a stopped container is E_NOT_RUNNING', async () => {
    const r = await cli(['resolve', '--runtime', 'docker-cli', 'lab-stopped', '--plugins', plugins], env);
    expect(r.code).to.equal(5);
    expect(r.stderr).to.contain('E_NOT_RUNNING');
  });

  it('--runtime auto refuses a name two runtimes know, listing them', async () => {
    const r = await cli(['resolve', 'lab-web', '--plugins', plugins], env);
    expect(r.code).to.equal(4);
    expect(r.stderr).to.contain('E_AMBIGUOUS: "lab-web" names a container in 2 runtimes (docker, docker-cli)');
  });

  it('SCOPE_ENGINE_PLUGINS works as --plugins does', async () => {
    const r = await cli(['resolve', '--runtime', 'docker-cli', 'lab-web'], { SCOPE_ENGINE_PLUGINS: plugins });
    expect(r.code).to.equal(0);
  });
});
