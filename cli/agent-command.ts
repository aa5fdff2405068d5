/**
 * `scope-engine agent`: what a node agent's container runs (the DaemonSet's, a `docker run -d`). It
 * does nothing itself: `kubectl exec` or `docker exec` start the commands that do. It checks at once
 * what would make every one of them fail (no host PID namespace, no host root, no runtime) and says
 * so in its log, then waits to be stopped.
 */
import type { Command } from 'commander';
import { ScopeError } from '../base/errors';
import { flows } from './flows';
import { printJson } from './output';
import { withEngine } from './context';

export function addAgentCommand(program: Command): void {
  program
    .command('agent')
    .description('run as a node agent: check that this container sees the host\'s processes, files and ' +
      'runtimes, say what it sees, and wait until stopped')
    .option('--once', 'check, print and exit: 0 when some runtime is available (a readiness probe)')
    .addHelpText('after', `
The agent's container needs the host's PID namespace (--pid=host, hostPID: true) and the host's /
mounted (-v /:/hostfs:ro, found by itself or named with --host-root); see the README's node agent.

Examples:
  docker run -d --pid=host --cap-drop ALL --cap-add SYS_ADMIN ... -v /:/hostfs:ro scope-engine:latest agent
  docker exec AGENT scope-engine run --runtime docker web
  scope-engine agent --once --json`)
    .action(async (opts: { once?: boolean }, cmd: Command) => {
      await withEngine(cmd, async (engine, g) => {
        flows().refuseOwnPidNamespace();
        const { dir, visible } = engine.hostRoot;
        const runtimes = (await engine.status()).map((s) => ({
          name: s.name, available: s.available, detail: s.available ? s.endpoint : s.reason,
        }));
        const hostRoot = visible ? dir : null;
        if (g.json) printJson({ hostRoot, runtimes });
        else {
          process.stdout.write(visible ? `host root: ${dir}\n`
            : 'host root: not visible (mount it: -v /:/hostfs:ro); host paths are read in this container\n');
          for (const r of runtimes) {
            process.stdout.write(`${r.name}: ${r.available ? 'available' : 'unavailable'}, ${r.detail}\n`);
          }
        }
        if (opts.once && !runtimes.some((r) => r.available)) {
          throw new ScopeError('E_RUNTIME_UNAVAILABLE', 'no runtime is available from this agent (see above)');
        }
      });
      if (opts.once || process.exitCode) return;
      // Stopped by its runtime (SIGTERM) or by hand (SIGINT): either is the normal end. Listeners do
      // not keep Node running; a timer does.
      const alive = setInterval(() => undefined, 1 << 30);
      await new Promise<void>((resolve) => {
        process.once('SIGTERM', () => resolve());
        process.once('SIGINT', () => resolve());
      });
      clearInterval(alive);
    });
}
