/** `scope-engine matrix`: the conformance suite over runtimes, as a status table. */
import { Option, type Command } from 'commander';
import { ScopeError, toScopeError } from '../base/errors';
import { globalOptions } from './context';
import { printJson, reportError } from './output';

export function addMatrixCommand(program: Command): void {
  program
    .command('matrix')
    .description('put runtime adapters through the conformance scenarios and print a status table')
    .option('-r, --runtime <list>',
      'comma-separated row labels or adapter names, or one label with commas (default: every row of the lab file)')
    .option('--format <md|json>', 'the table as Markdown or JSON', 'md')
    .option('--lab <file>', 'which containers each runtime row uses (default: the repository\'s test/lab/matrix.json)')
    // The flag's name before "lab"; scripts written then still work.
    .addOption(new Option('--targets <file>').hideHelp())
    .option('--in-image [image]', 'run each row with scope-engine inside its image, as the README\'s node agent ' +
      'line runs it (default scope-engine:latest, built by npm run image)')
    .addOption(new Option('--busybox <path>', 'the static busybox that looks inside containers without tools')
      .default('/bin/busybox'))
    .option('--create <image>',
      'make fixture containers from IMAGE (with /bin/sleep) for docker, podman, ctr and nerdctl, ' +
      'and remove them afterwards')
    .addHelpText('after', `
Scenarios: resolve by name and by ID prefix, unknown and stopped containers, list, exec landing in
the target's namespaces, an ID-mapped write read and removed inside by root and by uid 1000, run
with the default payload, detach and reattach, the IPC status round trip, a container without a
shell. Each cell passes, fails with the reason, or is skipped saying why. Exit status 1 if any fails.

A lab file: {"rows": [{"label": "docker", "runtime": "docker", "running": "web",
"stopped": "old", "noshell": "distroless", "plugins": "./my-plugins.json"}]}

Examples:
  scope-engine matrix
  scope-engine matrix --runtime docker,podman --format json
  scope-engine matrix --lab ./my-lab.json
  scope-engine matrix --runtime docker,ctr --create scope-lab-busybox
  scope-engine matrix --in-image               the same rows, the engine in its node agent image`)
    .action(async (opts: { runtime?: string; format: string; lab?: string; targets?: string; create?: string;
      inImage?: string | boolean; busybox: string },
      cmd: Command) => {
      const g = globalOptions(cmd);
      try {
        if (!['md', 'json'].includes(opts.format)) throw new ScopeError('E_USAGE',
          `--format ${opts.format}: give md or json`);
        // The suite, its scenarios and their lab are loaded for this command alone, not at every command's start.
        const { countOutcomes, formatMarkdown, LAB_FILE, runMatrix } = require('../testing/matrix') as
          typeof import('../testing/matrix');
        const rows = await runMatrix({
          labFile: opts.lab ?? opts.targets ?? LAB_FILE, createFrom: opts.create, hostRoot: g.hostRoot,
          busybox: opts.busybox, inImage: opts.inImage === true ? 'scope-engine:latest' : opts.inImage || undefined,
          only: opts.runtime ? [opts.runtime, ...opts.runtime.split(',').map((s) => s.trim())] : undefined,
        });
        const counts = countOutcomes(rows);
        if (opts.format === 'json' || g.json) printJson({ rows, ...counts });
        else process.stdout.write(`${formatMarkdown(rows)}\n\n` +
          `matrix: ${counts.passed} passed, ${counts.failed} failed, ${counts.skipped} skipped\n`);
        process.exitCode = counts.failed ? 1 : 0;
      } catch (err) {
        process.exitCode = reportError(toScopeError(err), g);
      }
    });
}
