/**
 * The runtimes' own tools (docker inspect, ctr, lxc info, docker exec) for a matrix run by the engine
 * inside its image: the image has none of them, so they run on the host, in the namespaces of a
 * host process (the shim that started the engine's container), as `nsenter -t PID -a` would run
 * them, with the engine's own capabilities. Only the matrix does this; the engine never runs tools
 * of the host.
 */
import { withDeadline } from '../base/deadline';
import { ScopeError } from '../base/errors';
import { spawnInTarget } from '../native/exec';
import { hostProcessPid } from '../native/host-root';
import { Target } from '../native/target';

/** Set by the matrix that starts the engine in its image (in-image.ts). */
export const HOST_TOOLS_VAR = 'SCOPE_MATRIX_HOST_TOOLS';

export const toolsOnHost = (): boolean => process.env[HOST_TOOLS_VAR] === '1';

export interface Ran {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** `argv` run on the host, to its end; killed, and an error, after `timeoutMs`. */
export async function runOnHost(argv: string[], timeoutMs: number): Promise<Ran> {
  const pid = hostProcessPid();
  if (!pid) throw new ScopeError('E_PERMISSION', `no process of the host is in reach to run ${argv[0]} there`);
  const host = Target.open(pid);
  try {
    const p = spawnInTarget(host, { argv, privileged: true, stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    p.child.stdout!.on('data', (b: Buffer) => out.push(b));
    p.child.stderr!.on('data', (b: Buffer) => err.push(b));
    const { code } = await withDeadline(p.exited, timeoutMs,
      () => new ScopeError('E_RUNTIME_UNAVAILABLE', `${argv.join(' ')} on the host: no end within ${timeoutMs} ms`),
      () => p.child.kill('SIGKILL'));
    return { code, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString() };
  } finally {
    host.close();
  }
}
