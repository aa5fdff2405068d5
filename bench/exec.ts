/**
 * `scope-engine exec` against the peer tools, in one run, on the same lab container:
 *   npm run build && node dist/bench/exec.js [container] [runs]
 * Prints the median wall time of running `true` inside the container and ratios against
 * `nsenter -t PID -a` and `docker exec`.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { createEngine } from '../core/index';
import { openContainerTarget } from '../core/targets';
import { execInTarget } from '../native/exec';
import { printTable, run, time } from './stats';

async function main(): Promise<void> {
  const container = process.argv[2] ?? 'lab-web';
  const runs = Number(process.argv[3] ?? 30);
  const pid = execFileSync('docker', ['inspect', '-f', '{{.State.Pid}}', container], { encoding: 'utf8' }).trim();
  const cli = join(__dirname, '..', 'core', 'cli', 'main.js');
  // NODE_EXTRA_CA_CERTS adds ~70 ms to every Node start here and is no part of scope-engine.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
  const engine = await createEngine();
  const { target } = await openContainerTarget(engine, 'docker', container);
  const results = [
    await time('nsenter -t PID -a', runs, () => run('nsenter', ['-t', pid, '-a', 'true'])),
    await time('docker exec', runs, () => run('docker', ['exec', container, 'true'])),
    await time('scope-engine exec (CLI, cold)', runs, () => run(process.execPath, [cli, 'exec', '-r', 'docker', container, '--', 'true'], env)),
    await time('library: resolve + pin + exec', runs, async () => {
      const t = await openContainerTarget(engine, 'docker', container);
      try {
        await execInTarget(t.target, { argv: ['true'] });
      } finally {
        t.target.close();
      }
    }),
    await time('library: exec on a pinned target', runs, () => execInTarget(target, { argv: ['true'] })),
  ];
  target.close();
  await engine.close();
  console.log(`exec of "true" in ${container} (PID ${pid}), median of ${runs} runs each`);
  printTable(results, ['nsenter -t PID -a', 'docker exec']);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
