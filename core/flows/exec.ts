/**
 * `exec`: a program inside a running container, in its namespaces, as its user, with what the
 * runtime's own exec would give it (the native helper takes that from the target; see native/exec.ts).
 */
import { spawnInTarget, type ExecOptions, type ExecProcess } from '../../native/exec';
import { ContainerFs } from '../../native/files';
import type { Namespace } from '../../native/target';
import type { Engine } from '../engine';
import { refusePaused, withContainerTarget } from './target';
import { parseUserSpec } from './user-spec';

export interface ExecRequest {
  argv: string[];
  /** Namespaces to join; default every one where the container differs from the engine. */
  namespaces?: Namespace[];
  /** "user[:group]" inside the container, numbers or names from its /etc files; default the main process's. */
  user?: string;
  cwd?: string;
  env?: Record<string, string>;
  hostBinary?: boolean;
  tty?: boolean;
  privileged?: boolean;
  stdio: NonNullable<ExecOptions['stdio']>;
}

/** Starts `req.argv` in the container `ref` names and hands the running program to `use`, which waits for it. */
export async function execIn<T>(engine: Engine, selector: string, ref: string, req: ExecRequest,
  use: (p: ExecProcess) => Promise<T>): Promise<T> {
  return withContainerTarget(engine, selector, ref, undefined, async ({ container, target }) => {
    refusePaused(container);
    const ids = req.user !== undefined ? await parseUserSpec(req.user, new ContainerFs(target)) : undefined;
    return use(spawnInTarget(target, {
      argv: req.argv, namespaces: req.namespaces, uid: ids?.uid, gid: ids?.gid, cwd: req.cwd, env: req.env,
      hostBinary: req.hostBinary, program: req.hostBinary ? engine.hostRoot.userPath(req.argv[0]) : undefined,
      tty: req.tty, privileged: req.privileged, stdio: req.stdio,
    }));
  });
}
