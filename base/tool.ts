/**
 * Running a runtime's own command (lxc-info, podman, ctr): execFile, never a shell, with a deadline,
 * and its failures as ScopeErrors: the command missing or silent is an unavailable runtime; anything
 * else is what the command said. The error keeps the command's stderr, for callers that read it.
 */
import { ScopeError } from './errors';

export interface ToolOptions {
  timeoutMs?: number;
  /** The tool's environment (its PATH among it); default the engine's. */
  env?: Readonly<Record<string, string | undefined>>;
  /** Said after "CMD: not found", e.g. "apt-get install lxc". */
  installHint?: string;
}

export type ToolError = ScopeError & { stderr: string };

export function runTool(cmd: string, args: string[], opts: ToolOptions = {}): Promise<string> {
  const timeout = opts.timeoutMs ?? 10_000;
  return new Promise((resolve, reject) => {
    // node:child_process on first use: a command that runs no tool (resolve through an API) skips its 3 ms.
    const { execFile } = require('node:child_process') as typeof import('node:child_process');
    execFile(cmd, args, { timeout, env: opts.env, maxBuffer: 64 << 20 }, (err, stdout, stderr) => {
      if (!err) return resolve(String(stdout));
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      const said = String(stderr);
      const scoped = e.code === 'ENOENT'
        ? new ScopeError('E_RUNTIME_UNAVAILABLE',
          `${cmd}: not found${opts.installHint ? ` (${opts.installHint})` : ''}`, { cause: err })
        : e.killed
          ? new ScopeError('E_RUNTIME_UNAVAILABLE', `${cmd} did not answer within ${timeout} ms`, { cause: err })
          : new ScopeError('E_RUNTIME_ERROR', `${cmd}: ${said.trim() || e.message}`, { cause: err });
      reject(Object.assign(scoped, { stderr: said }));
    });
  });
}
