/** The `scope-engine` command line: global options, the commands, and usage errors as E_USAGE. */
import { Command, CommanderError, Option } from 'commander';
import { ErrorCodes, ScopeError } from '../base/errors';
import { builtinRegistry } from '../core/registry';
import { addAgentCommand } from './agent-command';
import { addDiscoveryCommands } from './commands';
import { addDoctorCommand } from './doctor-command';
import { collect } from './context';
import { addFlowCommands } from './flow-commands';
import { addInsideCommands } from './inside-commands';
import { addMatrixCommand } from './matrix-command';
import { reportError } from './output';

const VERSION: string = require('../../package.json').version;

export function buildProgram(): Command {
  const program = new Command('scope-engine')
    .description('Get into a running container, whatever runtime made it: resolve it to a host PID,\n' +
      'join its namespaces, and install files and processes that behave as if they belonged.')
    .version(VERSION, '-V, --version')
    .option('--json', 'print JSON for scripts (errors too: {"error": {"code", "message"}})', false)
    .option('--plugins <file>', 'also load the adapters listed in this plugins.json (repeatable)',
      collect, [] as string[])
    .addOption(new Option('--host-root <dir>',
      'where the host\'s / is mounted, when scope-engine runs in a container ' +
      '(found by itself when mounted; default /)').env('SCOPE_ENGINE_HOST_ROOT'))
    .configureHelp({ showGlobalOptions: true });
  // Each built-in adapter's own flags, as it declares them (containerd's --namespace, LXC's --lxcpath).
  for (const o of builtinRegistry.flags()) program.option(o.flag!, o.help);
  program
    .showHelpAfterError('(add --help for usage)')
    .addHelpText('after', `
Examples:
  scope-engine run --runtime podman web      the main job: watch web's main process from inside
  scope-engine runtimes                      which runtimes are available here
  scope-engine ps                            containers of every runtime, with host PIDs
  scope-engine resolve --runtime docker web  the host PID of container "web"
  scope-engine exec web -- ps                run ps inside "web", in its namespaces
  scope-engine cp ./tool web:/usr/local/bin/ copy a file in, owned as the container's user
  scope-engine doctor web                    why something cannot be done there`);
  addDiscoveryCommands(program);
  addInsideCommands(program);
  addFlowCommands(program);
  addMatrixCommand(program);
  addAgentCommand(program);
  addDoctorCommand(program);
  // Commander's own exits (usage errors) become E_USAGE; help and --version stay 0.
  program.exitOverride();
  for (const c of program.commands) c.exitOverride();
  return program;
}

export async function main(argv: string[]): Promise<number> {
  const program = buildProgram();
  try {
    await program.parseAsync(argv);
    return Number(process.exitCode ?? 0);
  } catch (err) {
    if (err instanceof CommanderError) {
      if (err.exitCode === 0) return 0;
      const json = argv.includes('--json');
      if (json) return reportError(new ScopeError('E_USAGE', err.message.replace(/^error: /, '')), { json });
      return ErrorCodes.E_USAGE;
    }
    throw err;
  }
}
