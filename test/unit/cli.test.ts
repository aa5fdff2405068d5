import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { CLI, cli, json } from '../support/cli';
import { loadRecording, ReplayServer } from '../support/replay';

/** The CLI's output and exit codes, with the docker adapter talking to recorded answers. */
describe('cli', () => {
  let server: ReplayServer;
  let env: Record<string, string>;
  const inspect = JSON.parse(loadRecording('docker', 'resolve-name').exchanges[0].body);

  before(async () => {
    const rec = ['probe', 'list', 'resolve-name', 'resolve-unknown', 'resolve-stopped']
      .flatMap((s) => loadRecording('docker', s).exchanges);
    server = await new ReplayServer(rec).start();
    env = { DOCKER_HOST: `unix://${server.socketPath}`, SCOPE_ENGINE_PLUGINS: '', HOME: '/nonexistent' };
  });
  after(() => server.stop());

  it('resolve prints the PID alone on its line', async () => {
    const r = await cli(['resolve', '--runtime', 'docker', 'lab-web'], env);
    expect(r).to.deep.include({ code: 0, stdout: `${inspect.State.Pid}\n`, stderr: '' });
  });

  it('resolve --json prints the whole record', async () => {
    const r = await cli(['resolve', '--runtime', 'docker', 'lab-web', '--json'], env);
    expect(json(r)).to.deep.equal({
      runtime: 'docker', id: inspect.Id, name: 'lab-web', state: 'running', pid: inspect.State.Pid,
      labels: inspect.Config.Labels, image: inspect.Config.Image,
    });
  });

  it('exits 3 for an unknown container and 5 for a stopped one, with the code in the message', async () => {
    const unknown = await cli(['resolve', '--runtime', 'docker', 'no-such-container'], env);
    expect(unknown.code).to.equal(3);
    expect(unknown.stderr)
      .to.match(/^scope-engine: E_NOT_FOUND: no docker container named or with ID prefix "no-such-container"/);
    const stopped = await cli(['resolve', '--runtime', 'docker', 'lab-stopped', '--json'], env);
    expect(stopped.code).to.equal(5);
    expect(json(stopped).error.code).to.equal('E_NOT_RUNNING');
  });

  it('ps lists containers with runtime, short id, name, state and PID', async () => {
    const r = await cli(['ps', '--runtime', 'docker'], env);
    expect(r.code).to.equal(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0].split(/\s{2,}/)).to.deep.equal(['RUNTIME', 'CONTAINER ID', 'NAME', 'STATE', 'PID']);
    expect(lines.some((l) => new RegExp(`^docker\\s+${inspect.Id.slice(0, 12)}\\s+lab-web\\s+running\\s+` +
      `${inspect.State.Pid}$`).test(l)), r.stdout).to.equal(true);
  });

  it('runtimes says where each adapter came from and whether it is available', async () => {
    const r = await cli(['runtimes', '--json'], env);
    const [docker] = json(r);
    expect(docker).to.deep.include({ name: 'docker', kind: 'builtin', source: 'built-in docker', available: true });
    const down = await cli(['runtimes'], { ...env, DOCKER_HOST: 'unix:///nonexistent.sock' });
    expect(down.stdout)
      .to.match(/docker\s+built-in docker\s+\S+plugins\.json\s+no\s+socket \/nonexistent\.sock: no such file/);
  });

  it('usage errors exit 2, unknown runtimes 10, and every command has --help with an example', async () => {
    expect((await cli(['resolve'], env)).code).to.equal(2);
    const unknownRuntime = await cli(['resolve', '--runtime', 'rkt', 'web'], env);
    expect(unknownRuntime.code).to.equal(10);
    expect(unknownRuntime.stderr).to.contain('loaded: docker');
    for (const cmd of ['runtimes', 'ps', 'resolve']) {
      const help = await cli([cmd, '--help'], env);
      expect(help.code).to.equal(0);
      expect(help.stdout, cmd).to.match(/Examples?:\n\s+scope-engine /);
      expect(help.stdout, cmd).to.contain('--json');
    }
  });
});

describe('cli writing to a reader that went away', () => {
  it('ends quietly with 141, as a command SIGPIPE ends, not with a stack trace', async () => {
    const child = spawn(process.execPath, [CLI, 'matrix', '--help'], { stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout.destroy(); // the reader is gone before the help is written
    let stderr = '';
    child.stderr.on('data', (b: Buffer) => { stderr += b; });
    const code = await new Promise((resolve) => child.on('close', resolve));
    expect({ code, stderr }).to.deep.equal({ code: 141, stderr: '' });
  });
});
