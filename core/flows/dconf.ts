/**
 * Detach and reattach, as AppScope does them: a dynamic configuration file written into the
 * container, /dev/shm/scope_dconf.<in-container pid>, one KEY=VALUE a line, owned by the target's
 * user so that the payload (running as that user) can read and remove it. Removal is the payload's
 * acknowledgement, so the engine waits for the file to go.
 */
import { ContainerFs } from '../../native/files';
import type { Engine } from '../engine';
import { ScopeError } from '../../base/errors';
import type { Container } from '../runtime';
import { pollUntil } from './poll';
import { withContainerTarget } from './target';

export const DCONF_DIR = '/dev/shm';

export interface DconfResult {
  container: Container;
  target: { pid: number; nsPid: number };
  path: string;
  attach: boolean;
  /** The payload read and removed the file within the wait. */
  applied: boolean;
}

export async function writeDconf(engine: Engine, selector: string, ref: string,
  opts: { attach: boolean; pid?: number; waitMs?: number }): Promise<DconfResult> {
  return withContainerTarget(engine, selector, ref, opts.pid, async ({ container, target }) => {
    const fs = new ContainerFs(target);
    const path = `${DCONF_DIR}/scope_dconf.${target.nsPid}`;
    await fs.write(path, `SCOPE_CMD_ATTACH=${opts.attach}\n`, { mode: 0o644 }).catch(async (err: ScopeError) => {
      const shm = await fs.stat(DCONF_DIR, { uid: 0, gid: 0 }).catch(() => undefined);
      if (shm) throw err;
      throw new ScopeError('E_FILE',
        `${container.name} has no ${DCONF_DIR}, where the dynamic configuration file goes ` +
        '(its init normally mounts a tmpfs there)', { cause: err });
    });
    const gone = async () => fs.stat(path).then(() => false, (err: ScopeError) => {
      if (err.code !== 'E_FILE') throw err;
      return true;
    });
    const applied = await pollUntil(engine.clock, opts.waitMs ?? 5000, 50, gone);
    return { container, target: { pid: target.pid, nsPid: target.nsPid }, path, attach: opts.attach, applied };
  });
}
