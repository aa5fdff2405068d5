#!/usr/bin/env node
/**
 * Stands in for a runtime's command-line tool (lxc-ls, lxc-info), the "API" of classic LXC, in two
 * modes chosen by the environment. Links named after each tool point here; the name it was started
 * under says which tool it plays.
 * - SCOPE_TOOL_RECORD=FILE: runs the real tool from SCOPE_TOOL_REAL_PATH and appends what it printed
 *   and its exit code to FILE (the fixture recorder).
 * - SCOPE_TOOL_REPLAY=FILE: prints what FILE recorded for the same tool and arguments and exits with
 *   the recorded code; arguments never recorded exit 99 with a message, so a test fails loudly.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { basename } from 'node:path';

export interface ToolExchange {
  tool: string;
  args: string[];
  stdout: string;
  stderr: string;
  code: number;
}

function main(): number {
  const tool = basename(process.argv[1]);
  const args = process.argv.slice(2);
  const recordTo = process.env.SCOPE_TOOL_RECORD;
  if (recordTo) {
    const real = spawnSync(tool, args,
      { encoding: 'utf8', env: { ...process.env, PATH: process.env.SCOPE_TOOL_REAL_PATH } });
    const exchanges: ToolExchange[] = existsSync(recordTo) ? JSON.parse(readFileSync(recordTo, 'utf8')) : [];
    exchanges.push({ tool, args, stdout: real.stdout, stderr: real.stderr, code: real.status ?? 1 });
    writeFileSync(recordTo, JSON.stringify(exchanges));
    process.stdout.write(real.stdout);
    process.stderr.write(real.stderr);
    return real.status ?? 1;
  }
  const exchanges: ToolExchange[] = JSON.parse(readFileSync(process.env.SCOPE_TOOL_REPLAY!, 'utf8')).exchanges;
  const hit = exchanges.find((e) => e.tool === tool && JSON.stringify(e.args) === JSON.stringify(args));
  if (!hit) {
    process.stderr.write(`tool-replay: never recorded: ${tool} ${args.join(' ')}\n`);
    return 99;
  }
  process.stdout.write(hit.stdout);
  process.stderr.write(hit.stderr);
  return hit.code;
}

process.exitCode = main();
