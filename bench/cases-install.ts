/**
 * `scope-engine run -d`, first install, against doing the same by hand with docker: the built-in
 * payload's scope-probe copied into lab-web, then started there pointed at PID 1 and left running.
 * After every sample, untimed, the probe is stopped and its install removed, so that each sample
 * starts from an empty container and no probe loads lab-web while the other comparisons run.
 */
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { BUILTIN_PAYLOAD_DIR } from '../core/payload/manifest';
import type { Comparison } from './harness';
import { cli, lab } from './lab';
import { runCommand, tryCommand } from './spawn';

/** Where the hand-made install goes: apart from scope-engine's, so that neither cleans up the other. */
const DOCKER_DIR = '/usr/lib/scope-engine-docker-cp';
/** Where scope-engine installs (the first writable of these). */
const OUR_DIRS = ['/usr/lib/scope-engine', '/tmp/scope-engine'];

/**
 * Ends the hand-started probe through the PID in its lock file, never by name. docker exec -d
 * returns before the probe has started, so its lock file is awaited first (bounded), then its end.
 */
const STOP_DOCKER_PROBE = `lock=${DOCKER_DIR}/scope-probe.1.lock; i=0; ` +
  'while [ ! -s $lock ] && [ $i -lt 250 ]; do sleep 0.02; i=$((i+1)); done; ' +
  'p=$(cat $lock 2>/dev/null) && kill $p && while kill -0 $p 2>/dev/null; do sleep 0.02; done; ' +
  `rm -rf ${DOCKER_DIR}`;

export function installComparison(): Comparison {
  return {
    id: 'run-docker-first', title: '9 run -d, first install, docker (CLI)', unit: 'ms', goal: { kind: 'report' },
    async prepare() {
      await lab('docker').pid();
      const ours = cli('run', '-d', '--runtime', 'docker', 'lab-web');
      const stopOurs = cli('stop', '--runtime', 'docker', 'lab-web');
      const staged = mkdtempSync(join(tmpdir(), 'scope-bench-payload-'));
      copyFileSync(join(BUILTIN_PAYLOAD_DIR, '..', 'build', 'Release', 'scope-probe'), join(staged, 'scope-probe'));
      const cleanOurs = async () => {
        await tryCommand(stopOurs);
        await runCommand(['docker', 'exec', 'lab-web', 'rm', '-rf', ...OUR_DIRS]);
      };
      const cleanDocker = () => runCommand(['docker', 'exec', 'lab-web', 'sh', '-c', STOP_DOCKER_PROBE]);
      // Whatever an earlier, interrupted run left: the first sample must be a first install too.
      await cleanOurs();
      await cleanDocker();
      return {
        ours: { label: 'scope-engine run -d --runtime docker lab-web', op: () => runCommand(ours), after: cleanOurs },
        peer: {
          label: `docker cp <scope-probe dir> lab-web:${DOCKER_DIR} && ` +
            `docker exec -d lab-web ${DOCKER_DIR}/scope-probe --pid 1 --dir ${DOCKER_DIR}`,
          async op() {
            await runCommand(['docker', 'cp', staged, `lab-web:${DOCKER_DIR}`]);
            await runCommand(['docker', 'exec', '-d', 'lab-web', `${DOCKER_DIR}/scope-probe`, '--pid', '1',
              '--dir', DOCKER_DIR]);
          },
          after: cleanDocker,
        },
        note: 'docker exec -d returns once dockerd has started the exec; scope-engine run -d once the loader ' +
          'reports its PID. Clean-up (stop, rm -rf the install) after each sample is untimed',
        async teardown() {
          rmSync(staged, { recursive: true, force: true });
        },
      };
    },
  };
}
