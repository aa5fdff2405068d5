/** The scope flows on the command line: run, attach, detach, reattach, ipc. */
import type { Command } from 'commander';
import { ScopeError } from '../base/errors';
import { AUTO } from '../core/engine';
import type { Progress, RunResult } from '../core/index';
import { flows } from './flows';
import { collect, RUNTIME_HELP, waitForExit, withEngine, type GlobalOptions } from './context';
import { parseEnv, PRIVILEGED_HELP, warnPrivileged } from './inside-commands';
import { printJson } from './output';
import { forTerminal } from '../base/text';

const PID_HELP = 'the target process, as the container numbers it (default: the container\'s main process)';

interface RunFlags {
  runtime: string; payload?: string; pid?: string; detach?: boolean; env: string[]; privileged?: boolean;
}

export function addFlowCommands(program: Command): void {
  const run = program
    .command('run')
    .description('install a payload into a running container and start it there, pointed at the target process')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
    .argument('[command...]', 'run this instead of the payload\'s loader, after --; {pid} and {install} are filled in');
  runOptions(run)
    .option('-d, --detach', 'leave the payload running and return')
    .addHelpText('after', `
The payload's files are installed into /usr/lib/scope-engine/<version>/ (or /tmp/scope-engine/
<version>/ where the target's user cannot write /usr/lib, or /dev/shm/scope-engine/<version>/ in a
read-only container), created as the target's user through the container's uid_map and gid_map;
an install whose every byte is the payload's is reused, anything else there is replaced. The
loader runs from the engine's own copy, and "started" means it holds its lock. The loader then runs inside the
container's namespaces as that user, given the target's PID as the container numbers it.

The default payload is scope-probe: every second it reports the target's state, CPU, memory, open
files, sockets and children, as one JSON line, to stdout (with run in the foreground) and to
<install dir>/scope-probe.<pid>.jsonl. Past 1 MiB (--max-bytes N) that file becomes .jsonl.1, replacing
the one before, so a probe left running never fills the container's disk. It honours
detach/reattach and answers ipc status.

Examples:
  scope-engine run --runtime podman web                 # watch web's main process; Ctrl-C stops
  scope-engine run -d web && scope-engine ipc web status
  scope-engine run --pid 42 -e SCOPE_PROBE_PERIOD_MS=200 web
  scope-engine run --payload ./my-payload web
  scope-engine run web -- {install}/scope-probe --pid {pid} --dir /tmp --count 3`)
    .action(async (ref: string, command: string[], opts: RunFlags, cmd: Command) =>
      withEngine(cmd, async (engine, g) => {
      const result = await flows().runPayload(engine, opts.runtime, ref, {
        payloadDir: opts.payload, pid: parsePid(opts.pid), command: command.length ? command : undefined,
        env: parseEnv(opts.env), detach: opts.detach, progress: progressPrinter(g),
        privileged: warnPrivileged(opts.privileged),
      });
      if (opts.detach) return reportStarted(result, g, true);
      reportStarted(result, g, false);
      result.process.child.stdout!.pipe(process.stdout);
      result.process.child.stderr!.pipe(process.stderr);
      process.exitCode = (await waitForExit(result.process)).exitCode;
    }));

  runOptions(program.command('attach')
    .description('install a payload and start it, left running: run --detach')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix'))
    .addHelpText('after', `
Examples:
  scope-engine attach --runtime docker web
  scope-engine attach --pid 42 web`)
    .action(async (ref: string, opts: RunFlags, cmd: Command) => withEngine(cmd, async (engine, g) => {
      reportStarted(await flows().runPayload(engine, opts.runtime, ref, {
        payloadDir: opts.payload, pid: parsePid(opts.pid), env: parseEnv(opts.env),
        detach: true, progress: progressPrinter(g),
        privileged: warnPrivileged(opts.privileged),
      }), g, true);
    }));

  program
    .command('stop')
    .description('end the payload started in a container and remove its install')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--payload <dir>', 'the payload directory it was started from (default: the built-in scope-probe)')
    .option('--pid <n>', PID_HELP)
    .option('--all', 'every loader of the payload in the container, whatever process it watches')
    .option('--keep', 'leave the install, and the reports in it, in place')
    .addHelpText('after', `
The loader is found through the PID its lock file names, pinned, and checked to be the payload's
loader for that target before it gets SIGTERM (SIGKILL 5 s later): never by name, so nobody
else's processes are touched. The install is removed unless --keep or another loader still
runs from it. Nothing running is not an error: the install is still removed.

Examples:
  scope-engine stop --runtime docker web
  scope-engine stop --all --keep web`)
    .action(async (ref: string,
      opts: { runtime: string; payload?: string; pid?: string; all?: boolean; keep?: boolean }, cmd: Command) =>
      withEngine(cmd, async (engine, g) => {
        const r = await flows().stopPayload(engine, opts.runtime, ref, {
          payloadDir: opts.payload, pid: parsePid(opts.pid), all: opts.all, keep: opts.keep,
        });
        if (g.json) return printJson({ ...r, container: r.container.name });
        for (const s of r.stopped) process.stdout.write(
          `stopped loader PID ${s.loader} (watching PID ${s.target}) in ${r.container.name}\n`);
        if (!r.stopped.length) process.stdout.write(`no payload was running in ${r.container.name}\n`);
        for (const d of r.removed) process.stdout.write(`removed ${r.container.name}:${d}\n`);
      }));

  for (const attach of [false, true]) {
    program
      .command(attach ? 'reattach' : 'detach')
      .description(attach
        ? 'tell the payload in a container to resume (SCOPE_CMD_ATTACH=true)'
        : 'tell the payload in a container to stop reporting (SCOPE_CMD_ATTACH=false)')
      .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
      .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
      .option('--pid <n>', PID_HELP)
      .option('--wait <ms>', 'how long to wait for the payload to read the file', '5000')
      .addHelpText('after', `
Writes /dev/shm/scope_dconf.<pid> into the container, owned by the target's user, holding
SCOPE_CMD_ATTACH=${attach}; the payload reads and removes it, which is how scope-engine knows it
was applied. Exit status 17 means nothing read it in time (is a payload running?).

Examples:
  scope-engine ${attach ? 'reattach' : 'detach'} --runtime docker web`)
      .action(async (ref: string, opts: { runtime: string; pid?: string; wait: string }, cmd: Command) =>
        withEngine(cmd, async (engine, g) => {
        const r = await flows().writeDconf(engine, opts.runtime, ref, {
          attach, pid: parsePid(opts.pid), waitMs: parseMs(opts.wait, '--wait'),
        });
        if (g.json) printJson({ ...r, container: r.container.name });
        else if (r.applied) process.stdout.write(
          `${attach ? 'reattached' : 'detached'}: PID ${r.target.nsPid} in ${r.container.name} read ${r.path}\n`);
        if (!r.applied) {
          throw new ScopeError('E_IPC_TIMEOUT',
            `nothing in ${r.container.name} read ${r.path} within ${opts.wait} ms; ` +
            'the file stays for a payload that starts later (scope-engine attach)');
        }
      }));
  }

  program
    .command('ipc')
    .description('ask the payload running in a container over its IPC message queues')
    .argument('<container>', 'a name, a full ID or an unambiguous ID prefix')
    .argument('<request>', 'the request; scope-probe answers "status"')
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--pid <n>', PID_HELP)
    .option('--timeout <ms>', 'how long to wait for the answer', '5000')
    .addHelpText('after', `
The engine creates /ScopeIPCIn.<pid> and /ScopeIPCOut.<pid> in the container's IPC namespace for
the target's user (mode 0666), sends {"req":"<request>"}, prints the answer, and removes them.

Examples:
  scope-engine ipc --runtime docker web status
  scope-engine ipc web status --json | jq .data.reports`)
    .action(async (ref: string, request: string, opts: { runtime: string; pid?: string; timeout: string },
      cmd: Command) =>
      withEngine(cmd, async (engine, g) => {
        const timeout = parseMs(opts.timeout, '--timeout');
        const answer = await flows().askPayload(engine, opts.runtime, ref, {
          request, pid: parsePid(opts.pid), timeoutMs: timeout,
        });
        if (g.json) printJson(answer);
        else process.stdout.write(
          `${typeof answer.data === 'string' ? forTerminal(answer.data) : JSON.stringify(answer.data, null, 2)}\n`);
        if (answer.status >= 400) process.exitCode = 1;
      }));
}

function runOptions(cmd: Command): Command {
  return cmd
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--payload <dir>', 'a payload directory with a payload.json (default: the built-in scope-probe)')
    .option('--pid <n>', PID_HELP)
    .option('-e, --env <KEY=VALUE>', 'add to the loader\'s environment (repeatable)', collect, [] as string[])
    .option('--privileged', PRIVILEGED_HELP);
}

/** A duration in milliseconds, as --wait and --timeout take it: a whole number from 1 to 10 minutes. */
function parseMs(text: string, flag: string): number {
  const ms = Number(text);
  if (!/^\d+$/.test(text) || ms < 1 || ms > 600_000) throw new ScopeError('E_USAGE',
    `invalid ${flag} "${text}": give milliseconds, from 1 to 600000`);
  return ms;
}

function parsePid(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  if (!/^[1-9]\d*$/.test(text)) throw new ScopeError('E_USAGE', `invalid --pid "${text}": give a process number`);
  return Number(text);
}

function reportStarted(r: RunResult, g: GlobalOptions, detached: boolean): void {
  const summary = {
    event: 'started', container: r.container.name, runtime: r.container.runtime, target: r.target, payload: r.payload,
    install: r.install, loader: r.loader, detached,
  };
  if (g.json) {
    // Foreground: one JSON line, then the payload's own lines, so the whole stdout is JSON lines.
    process.stdout.write(JSON.stringify(summary) + '\n');
    return;
  }
  const how = r.install.reused ? 'reused' : `installed, ${r.install.bytes} bytes`;
  const line = `${r.payload.name} ${r.payload.version} ${how} in ${r.container.name}:${r.install.dir}; ` +
    `loader PID ${r.loader.pid} watching PID ${r.target.nsPid}`;
  if (detached) process.stdout.write(`${line}\n`);
  else process.stderr.write(`scope-engine: ${line}; Ctrl-C stops it\n`);
}

/** Progress on stderr, but only for an install that takes more than a moment. */
function progressPrinter(g: GlobalOptions): Progress {
  const start = Date.now();
  return (done, total, file) => {
    if (g.json || Date.now() - start < 300) return;
    process.stderr.write(done < total ? `installing ${file} (${done + 1}/${total})\n` : `installed ${total} files\n`);
  };
}
