/** Commands that act inside a container through the native core: exec and cp. */
import type { Command } from 'commander';
import { ScopeError } from '../base/errors';
import { AUTO } from '../core/engine';
import type { ExecRequest } from '../core/index';
import { NAMESPACES, parseNamespaces } from '../core/namespaces';
import { flows } from './flows';
import { collect, RUNTIME_HELP, waitForExit, withEngine } from './context';
import { printJson } from './output';

export function addInsideCommands(program: Command): void {
  program
    .command('exec')
    .description('run a command inside a running container, in its namespaces, as its user')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
    .argument('<command...>', 'the program and its arguments, after --')
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--ns <list>',
      `namespaces to join, comma-separated (${NAMESPACES.join(',')}); default: every one that differs from ours`)
    .option('-u, --user <user[:group]>',
      'user and group inside the container, as numbers or names (default: the container main process\'s)')
    .option('--privileged', PRIVILEGED_HELP)
    .option('--host-binary', 'the command is a host path, opened before entering: runs tools a container lacks')
    .option('-i, --interactive', 'keep stdin open and pass it to the command')
    .option('-t, --tty', 'give the command a pseudo-terminal')
    .option('-w, --workdir <dir>', 'working directory inside the container', '/')
    .option('-e, --env <KEY=VALUE>', 'set an environment variable (repeatable)', collect, [] as string[])
    .addHelpText('after', `
No nsenter, no docker exec: scope-engine pins the container's main process with a pidfd and
joins its namespaces itself. The command gets what the runtime's own exec would give it, read
from that process: its user (unless --user), capabilities, no_new_privs, seccomp filters,
cgroups, resource limits and LSM label; a paused container is refused. The command's exit status ` +
      `becomes scope-engine's (a command killed
by a signal gives 128+signal); 125 means entering failed, 126 the command could not run, 127
it was not found. With --json the output is captured and printed as one JSON object.

Examples:
  scope-engine exec --runtime docker web -- cat /etc/os-release
  scope-engine exec -it web -- sh
  scope-engine exec --user app web -- id
  scope-engine exec --host-binary distroless -- /bin/busybox ps
  scope-engine exec --ns net web -- ip addr        # only the network namespace`)
    .action(async (ref: string, argv: string[], opts: ExecFlags, cmd: Command) => withEngine(cmd, async (engine, g) => {
      const req: ExecRequest = {
        argv, namespaces: parseNamespaces(opts.ns), user: opts.user, cwd: opts.workdir, env: parseEnv(opts.env),
        hostBinary: opts.hostBinary,
        tty: opts.tty, privileged: warnPrivileged(opts.privileged),
        stdio: g.json
          ? ['ignore', 'pipe', 'pipe']
          : [opts.interactive || opts.tty ? 'inherit' : 'ignore', 'inherit', 'inherit'],
      };
      await flows().execIn(engine, opts.runtime, ref, req, async (p) => {
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        p.child.stdout?.on('data', (b: Buffer) => out.push(b));
        p.child.stderr?.on('data', (b: Buffer) => err.push(b));
        const { exitCode, signal } = await waitForExit(p);
        if (g.json) printJson({
          exitCode, signal, pid: await p.started,
          stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(),
        });
        process.exitCode = exitCode;
      });
    }));

  program
    .command('cp')
    .description('copy a host file or directory into a running container, owned as its user')
    .argument('<src>', 'a host file or directory, or - for stdin')
    .argument('<container:dest>', 'the container and the path inside it')
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--owner <user:group>',
      'owner inside the container, numbers or names (default: the container main process\'s)')
    .option('--mode <octal>', 'mode of the copied files (default: the source\'s)')
    .addHelpText('after', `
Files are created as the owner would create them (through the container's uid_map and
gid_map, so a user-namespaced container sees them as its own), written atomically, and
never through a symlink the container planted: paths resolve inside its root.
A DEST ending in / or naming a directory receives SRC under its own name.

Examples:
  scope-engine cp ./agent.conf web:/etc/agent.conf
  scope-engine cp --owner app:app --mode 0600 ./token web:/home/app/.token
  echo hello | scope-engine cp - web:/tmp/hello.txt`)
    .action(async (src: string, dest: string, opts: CpFlags, cmd: Command) => withEngine(cmd, async (engine, g) => {
      const { ref, path } = flows().parseCpDestination(dest);
      const mode = opts.mode === undefined ? undefined : parseMode(opts.mode);
      const copied = await flows().copyInto(engine, opts.runtime, ref, src, path, { owner: opts.owner, mode });
      if (g.json) printJson({ copied });
    }));
}

interface ExecFlags {
  runtime: string; ns?: string; user?: string; hostBinary?: boolean; interactive?: boolean; tty?: boolean;
  workdir: string; env: string[];
  privileged?: boolean;
}

export const PRIVILEGED_HELP = 'run with the engine\'s own capabilities, no seccomp filter and no LSM label ' +
  '(as docker exec --privileged); ' +
  'the container\'s cgroups and user still apply';

/** --privileged is said on stderr every time, so that it never goes unnoticed in a script's log. */
export function warnPrivileged(privileged: boolean | undefined): boolean {
  if (privileged) {
    process.stderr.write('scope-engine: --privileged: the program runs with the engine\'s capabilities, ' +
      'without the container\'s ' +
      'seccomp filters, no_new_privs, resource limits or LSM label\n');
  }
  return !!privileged;
}

interface CpFlags {
  runtime: string; owner?: string; mode?: string;
}

export function parseEnv(pairs: string[]): Record<string, string> {
  const env: Record<string, string> = {};
  for (const p of pairs) {
    const i = p.indexOf('=');
    if (i <= 0) throw new ScopeError('E_USAGE', `invalid --env "${p}": give KEY=VALUE`);
    env[p.slice(0, i)] = p.slice(i + 1);
  }
  return env;
}

export function parseMode(text: string): number {
  if (!/^0?[0-7]{3,4}$/.test(text)) throw new ScopeError('E_USAGE',
    `invalid mode "${text}": give octal digits such as 0644`);
  return parseInt(text, 8);
}
