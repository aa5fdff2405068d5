/**
 * The lxc adapter's cost of getting into a container, LXD's or classic LXC's, against the peers:
 *   npm run build && node dist/bench/lxc.js [lab-lxd|lab-lxc] [runs]
 * An instance LXD knows is compared with `lxc exec`, any other with `lxc-attach`; both with
 * `nsenter -t PID -a true` spawned from this process, which is the floor: it only enters, it finds
 * nothing out. The cases take turns (see interleave), and the median of each is printed.
 */
import 'reflect-metadata';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import '../adapters';
import { createEngine } from '../core/index';
import { openContainerTarget } from '../core/flows/target';
import { execInTarget } from '../native/exec';
import { interleave, printTable, run, type Case } from './stats';

/** Whether LXD knows `name` (else it is taken for a classic LXC container), and its init's PID. */
function locate(name: string): { lxd: boolean; pid: string } {
  try {
    const pid = execFileSync('lxc', ['list', '-f', 'csv', '-c', 'p', `^${name}$`], { encoding: 'utf8' }).trim();
    if (pid) return { lxd: true, pid };
  } catch {
    // no LXD here: a classic container, then
  }
  return { lxd: false, pid: execFileSync('lxc-info', ['-n', name, '-p', '-H'], { encoding: 'utf8' }).trim() };
}

async function main(): Promise<void> {
  const container = process.argv[2] ?? 'lab-lxd';
  const runs = Number(process.argv[3] ?? 21);
  const { lxd, pid } = locate(container);
  const cli = join(__dirname, '..', 'cli', 'main.js');
  // NODE_EXTRA_CA_CERTS adds ~60 ms to every Node start here and is no part of scope-engine.
  const env = { ...process.env, NODE_EXTRA_CA_CERTS: '' };
  const engine = await createEngine();
  const peer: Case = lxd
    ? { name: 'lxc exec', fn: () => run('lxc', ['exec', container, '--', 'true']) }
    : { name: 'lxc-attach', fn: () => run('lxc-attach', ['-n', container, '--', 'true']) };
  const results = await interleave([
    { name: 'nsenter -t PID -a', fn: () => run('nsenter', ['-t', pid, '-a', 'true']) },
    peer,
    {
      name: 'scope-engine exec (CLI, cold)',
      fn: () => run(process.execPath, [cli, 'exec', '--runtime', 'lxc', container, '--', 'true'], env),
    },
    {
      name: 'library: resolve + pin + exec',
      async fn() {
        const t = await openContainerTarget(engine, 'lxc', container);
        try {
          await execInTarget(t.target, { argv: ['true'] });
        } finally {
          t.target.close();
        }
      },
    },
    {
      name: 'library: resolve + pin',
      async fn() {
        (await openContainerTarget(engine, 'lxc', container)).target.close();
      },
    },
  ], runs);
  await engine.close();
  console.log(`exec of "true" in ${container} (PID ${pid}), median of ${runs} interleaved runs each`);
  printTable(results, ['nsenter -t PID -a', peer.name]);
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
