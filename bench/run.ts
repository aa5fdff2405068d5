/**
 * `scope-engine run` against doing the same by hand with docker, in one run, on the same container:
 *   npm run build && node dist/bench/run.js [container] [runs]
 * The same copy and start each way: the built-in payload's scope-probe copied into the container,
 * then started there pointed at PID 1, left running (-d). First install (nothing in the container)
 * and repeated (scope-engine reuses its install; docker cp copies again, having no notion of reuse).
 * Between runs, untimed: the probe is stopped (ours by `scope-engine stop`, docker's through the
 * PID in its lock file: never by name), and for "first" the install is removed.
 */
import 'reflect-metadata';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runPayload } from '../core/flows/run';
import { createEngine } from '../core/index';
import { BUILTIN_PAYLOAD_DIR, loadPayload } from '../core/payload/manifest';
import { printTable, run, time } from './stats';

const DOCKER_DIR = '/usr/lib/scope-engine-docker-cp';

const CLI = join(__dirname, '..', 'cli', 'main.js');
const ENV = { ...process.env, NODE_EXTRA_CA_CERTS: '' };

function stopProbes(container: string): void {
  run(process.execPath, [CLI, 'stop', '--keep', '-r', 'docker', container], ENV);
  spawnSync('docker', ['exec', container, 'sh', '-c',
    `p=$(cat ${DOCKER_DIR}/scope-probe.1.lock 2>/dev/null) && kill $p && ` +
    'while kill -0 $p 2>/dev/null; do sleep 0.02; done']);
}

function removeInstalls(container: string): void {
  run('docker', ['exec', container, 'rm', '-rf', '/usr/lib/scope-engine', '/tmp/scope-engine', DOCKER_DIR]);
}

async function main(): Promise<void> {
  const container = process.argv[2] ?? 'lab-web';
  const runs = Number(process.argv[3] ?? 15);
  const payload = loadPayload();
  const staged = mkdtempSync(join(tmpdir(), 'bench-payload-'));
  copyFileSync(join(BUILTIN_PAYLOAD_DIR, '..', 'build', 'Release', 'scope-probe'), join(staged, 'scope-probe'));
  const engine = await createEngine();
  const cliRun = () => run(process.execPath, [CLI, 'run', '-d', '-r', 'docker', container], ENV);
  const libRun = async () => { await runPayload(engine, 'docker', container, { detach: true }); };
  const dockerRun = () => {
    run('docker', ['cp', staged, `${container}:${DOCKER_DIR}`]);
    run('docker', ['exec', '-d', container, `${DOCKER_DIR}/scope-probe`, '--pid', '1', '--dir', DOCKER_DIR]);
  };
  // Each timed step starts from a stopped probe; `first` also from an empty container.
  const fresh = (fn: () => unknown) => async () => {
    stopProbes(container);
    removeInstalls(container);
    const t = Date.now();
    await fn();
    return Date.now() - t;
  };
  const again = (fn: () => unknown) => async () => {
    stopProbes(container);
    const t = Date.now();
    await fn();
    return Date.now() - t;
  };
  const results = [
    await time('docker cp + docker exec -d (first)', runs, fresh(dockerRun), true),
    await time('docker cp + docker exec -d (repeated)', runs, again(() => {
      run('docker', ['exec', container, 'rm', '-rf', DOCKER_DIR]);
      dockerRun();
    }), true),
    await time('scope-engine run -d, CLI (first)', runs, fresh(cliRun), true),
    await time('scope-engine run -d, CLI (repeated)', runs, again(cliRun), true),
    await time('library runPayload (first)', runs, fresh(libRun), true),
    await time('library runPayload (repeated)', runs, again(libRun), true),
  ];
  stopProbes(container);
  removeInstalls(container);
  await engine.close();
  console.log(`payload ${payload.name} ${payload.version} ` +
    `(${payload.files.reduce((n, f) => n + f.data.length, 0)} bytes) into ${container}, ` +
    `started detached; median of ${runs} runs each`);
  printTable(results, ['docker cp + docker exec -d (first)', 'docker cp + docker exec -d (repeated)']);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
