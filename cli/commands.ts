/** The engine's read-only commands: runtimes, ps, resolve. */
import type { Command } from 'commander';
import { forTerminal } from '../base/text';
import { ALL, AUTO } from '../core/engine';
import { shortId } from '../core/runtime';
import { printJson, printTable } from './output';
import { withEngine, type GlobalOptions } from './context';

export function addDiscoveryCommands(program: Command): void {
  program
    .command('runtimes')
    .description('list every runtime adapter loaded, where it came from, and whether it is available here')
    .addHelpText('after', `
Adapters come from the package's plugins.json, /etc/scope-engine/plugins.json,
~/.config/scope-engine/plugins.json, SCOPE_ENGINE_PLUGINS and --plugins, in that order.

Examples:
  scope-engine runtimes
  scope-engine runtimes --plugins ./my-plugins.json --json`)
    .action(async (_opts, cmd: Command) => withEngine(cmd, async (engine, g) => {
      const statuses = await engine.status();
      if (g.json) return printJson(statuses);
      printTable(['NAME', 'SOURCE', 'PLUGINS FILE', 'AVAILABLE', 'DETAIL'], statuses.map((s) => [
        s.name, s.source, s.file, s.available ? 'yes' : 'no',
        s.available ? [s.version && `version ${s.version}`, s.endpoint].filter(Boolean).join(' at ') : s.reason ?? '',
      ]));
    }));

  program
    .command('ps')
    .description('list containers of one runtime or of every available runtime, with the host PID of each')
    .option('-r, --runtime <name>', `a runtime adapter's name, or "${ALL}"`, ALL)
    .addHelpText('after', `
Stopped containers are listed with PID 0. Root also sees each user's rootless podman
containers (through /run/user/UID/podman/podman.sock), with a USER column naming the user.
With --runtime all, a runtime that is not
available is named on stderr (and under "unavailable" with --json), not an error.

Examples:
  scope-engine ps
  scope-engine ps --runtime docker --json`)
    .action(async (opts: { runtime: string }, cmd: Command) => withEngine(cmd, async (engine, g) => {
      const { containers, unavailable } = await engine.list(opts.runtime);
      if (g.json) return printJson({ containers, unavailable });
      // USER only when root sees other users' rootless containers: whose runtime each belongs to.
      const users = containers.some((c) => c.user);
      // POD UID only when some container is a Kubernetes pod's: NAME already says NAMESPACE/POD/CONTAINER.
      const pods = containers.some((c) => c.pod);
      printTable(['RUNTIME', 'CONTAINER ID', 'NAME', 'STATE', 'PID', ...(users ? ['USER'] : []),
        ...(pods ? ['POD UID'] : [])],
        containers.map((c) => [
          c.runtime, shortId(c.id), c.name, c.state, String(c.pid), ...(users ? [c.user ?? '-'] : []),
          ...(pods ? [c.pod?.uid || '-'] : []),
        ]));
      for (const u of unavailable) {
        process.stderr.write(`scope-engine: ${u.runtime} skipped: ${forTerminal(u.reason)}\n`);
      }
    }));

  program
    .command('resolve')
    .description('print the host PID of a running container\'s main process')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
    .option('-r, --runtime <name>', `a runtime adapter's name, or "${AUTO}" to ask every available one`, AUTO)
    .addHelpText('after', `
The PID is printed alone on its line; --json prints the whole record (id, name,
runtime, state, pid, labels, image). Exit status 3 means no such container,
4 an ambiguous reference, 5 a container that is not running.

Examples:
  scope-engine resolve --runtime docker web
  nsenter -t "$(scope-engine resolve web)" -m -p ps
  scope-engine resolve --runtime docker 4410d7 --json`)
    .action(async (ref: string, opts: { runtime: string }, cmd: Command) =>
      withEngine(cmd, async (engine, g: GlobalOptions) => {
      const c = await engine.resolve(opts.runtime, ref);
      if (g.json) return printJson(c);
      process.stdout.write(`${c.pid}\n`);
    }));
}
