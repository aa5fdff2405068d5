/**
 * Command-line tools played by tool-replay.ts from answers recorded under fixtures/ (classic LXC's
 * lxc-ls and lxc-info), for adapters whose API is a runtime's own tools.
 */
import { chmodSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { FIXTURES, loadRecording } from './replay';
import type { ToolExchange } from './tool-replay';
import { tempDir } from './tmp';

const STAND_IN = join(__dirname, 'tool-replay.js');

/**
 * A directory holding links named after `tools`, all to tool-replay, and one to node (which the
 * stand-ins' `#!/usr/bin/env node` looks for): put it alone on PATH, so no real tool is reachable.
 */
export function toolStandIns(tools: string[]): { dir: string; remove: () => void } {
  chmodSync(STAND_IN, 0o755);
  const dir = tempDir('tools-');
  for (const t of tools) symlinkSync(STAND_IN, join(dir, t));
  symlinkSync(process.execPath, join(dir, 'node'));
  return { dir, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * Runs `fn` with an environment whose PATH holds only stand-ins replaying `runtime`'s recorded
 * `scenario`, and hands it the recorded exchanges.
 */
export async function withRecordedTools<T>(runtime: string, scenario: string, tools: string[],
  fn: (env: Record<string, string>, exchanges: ToolExchange[]) => Promise<T>): Promise<T> {
  const stand = toolStandIns(tools);
  const recording = join(FIXTURES, runtime, `${scenario}.json`);
  try {
    const env = { PATH: stand.dir, SCOPE_TOOL_REPLAY: recording };
    return await fn(env, loadRecording(runtime, scenario).exchanges as unknown as ToolExchange[]);
  } finally {
    stand.remove();
  }
}
