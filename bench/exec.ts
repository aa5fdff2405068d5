/**
 * `scope-engine exec` against the peer tools, in one run, on the same lab container:
 *   npm run build && node dist/bench/exec.js [container] [runs]
 * Prints the median wall time of running `true` inside the container and ratios against
 * `nsenter -t PID -a` and `docker exec`, every case taking turns in one interleaved run. The
 * --privileged row copies no confinement: the difference to the row above it is what reading
 * and taking the target's capabilities, seccomp filters, cgroups and limits costs.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createEngine } from '../core/index';
import { openContainerTarget } from '../core/flows/target';
import { execInTarget } from '../native/exec';
import { interleave, printTable, run } from './stats';

async function main(): Promise<void> {
  const container = process.argv[2] ?? 'lab-web';
  const runs = Number(process.argv[3] ?? 30);
  const pid = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', container], { encoding: 'utf8' }).trim();
  const cli = join(__dirname, '..', 'cli', 'main.js');
  // NODE_EXTRA_CA_CERTS adds ~70 ms to every Node start here and is no part of scope-engine.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
  const engine = await createEngine();
  const { target } = await openContainerTarget(engine, 'docker', container);
  const results = await interleave([
    { name: 'nsenter -t PID -a', fn: () => run('nsenter', ['-t', pid, '-a', 'true']) },
    { name: 'docker exec', fn: () => run('docker', ['exec', container, 'true']) },
    {
      name: 'scope-engine exec (CLI, cold)',
      fn: () => run(process.execPath, [cli, 'exec', '-r', 'docker', container, '--', 'true'], env),
    },
    {
      name: 'library: resolve + pin + exec',
      async fn() {
        const t = await openContainerTarget(engine, 'docker', container);
        try {
          await execInTarget(t.target, { argv: ['true'] });
        } finally {
          t.target.close();
        }
      },
    },
    { name: 'library: exec on a pinned target', fn: () => execInTarget(target, { argv: ['true'] }) },
    {
      name: 'library: exec on a pinned target, --privileged',
      fn: () => execInTarget(target, { argv: ['true'], privileged: true }),
    },
  ], runs);
  target.close();
  await engine.close();
  console.log(`exec of "true" in ${container} (PID ${pid}), median of ${runs} interleaved runs each`);
  printTable(results, ['nsenter -t PID -a', 'docker exec']);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
