/**
 * Installing a payload into a container, ID-mapped: every file and directory is created as the
 * target's user (through its uid_map/gid_map), as AppScope installs its loader. Into
 * /usr/lib/scope-engine/<version>/, or /tmp/scope-engine/<version>/ where that user cannot write
 * /usr/lib (a non-root target, a read-only image). An install whose marker carries the same hash
 * is reused, not copied again. The marker is written last, so a half-done install is never reused.
 */
import type { ContainerFs, Owner } from '../../native/files';
import { ScopeError } from '../errors';
import type { Payload } from './manifest';

export const INSTALL_BASES = ['/usr/lib/scope-engine', '/tmp/scope-engine'];
export const MARKER = '.scope-engine-payload.json';

export interface Installed {
  dir: string;
  reused: boolean;
  files: string[];
  bytes: number;
}

export type Progress = (done: number, total: number, file: string) => void;

export async function installPayload(fs: ContainerFs, payload: Payload, owner: Owner = {}, progress?: Progress): Promise<Installed> {
  const failures: string[] = [];
  for (const base of INSTALL_BASES) {
    const dir = `${base}/${payload.version}`;
    if (await isInstalled(fs, dir, payload, owner)) {
      return { dir, reused: true, files: payload.files.map((f) => `${dir}/${f.path}`), bytes: 0 };
    }
    try {
      return await copyInto(fs, dir, base, payload, owner, progress);
    } catch (err) {
      const code = (err as ScopeError).code;
      const errno = (err as ScopeError).details?.errno;
      // Not writable for this user, or a read-only filesystem: the next base. Anything else is real.
      if (code !== 'E_PERMISSION' && !(code === 'E_FILE' && (errno === 'EROFS' || errno === 'ENOENT'))) throw err;
      failures.push((err as Error).message);
    }
  }
  throw new ScopeError('E_PERMISSION', `cannot install payload ${payload.name} ${payload.version} in the container: ${failures.join('; ')}`);
}

/** Reused only when the same payload is there whole, and the directory is the target user's (the loader writes beside its files). */
async function isInstalled(fs: ContainerFs, dir: string, payload: Payload, owner: Owner): Promise<boolean> {
  try {
    if ((await fs.stat(dir, owner)).uid !== fs.ownerUid(owner)) return false;
    const marker = JSON.parse((await fs.read(`${dir}/${MARKER}`, owner)).toString()) as { hash?: string };
    if (marker.hash !== payload.hash) return false;
    for (const f of payload.files) {
      const st = await fs.stat(`${dir}/${f.path}`, owner);
      if (st.type !== 'file' || st.size !== f.data.length) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function copyInto(fs: ContainerFs, dir: string, base: string, payload: Payload, owner: Owner, progress?: Progress): Promise<Installed> {
  // /tmp/scope-engine is shared by every user of the container, so it is sticky and world-writable, as /tmp is.
  if (base.startsWith('/tmp/')) await fs.mkdir(base, { ...owner, mode: 0o1777 });
  await fs.mkdir(dir, { ...owner, mode: 0o755 });
  let bytes = 0;
  const files: string[] = [];
  for (const [i, f] of payload.files.entries()) {
    progress?.(i, payload.files.length, f.path);
    await fs.write(`${dir}/${f.path}`, f.data, { ...owner, mode: f.mode, parents: true });
    files.push(`${dir}/${f.path}`);
    bytes += f.data.length;
  }
  progress?.(payload.files.length, payload.files.length, '');
  await fs.write(`${dir}/${MARKER}`, JSON.stringify({ name: payload.name, version: payload.version, hash: payload.hash }) + '\n',
    { ...owner, mode: 0o644 });
  return { dir, reused: false, files, bytes };
}
