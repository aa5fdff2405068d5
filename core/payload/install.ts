/**
 * Installing a payload into a container, ID-mapped: every file and directory is created as the
 * target's user (through its uid_map/gid_map), as AppScope installs its loader. Into
 * /usr/lib/scope-engine/<version>/, or /tmp/scope-engine/<version>/ where that user cannot write
 * /usr/lib (a non-root target, a read-only image, a full disk), or last /dev/shm/scope-engine/
 * (a --read-only container still has its /dev/shm; noexec there is no matter, the loader runs
 * from the engine's own copy).
 *
 * The container is not trusted with any of it. A new install is made whole in a private directory
 * of a random name and only then renamed into place, so no one ever sees half of one and an
 * interrupted install leaves nothing. An existing install is reused only when every file's content
 * and mode is the payload's, read back through the pinned root; anything else there is foreign and
 * is swapped out and removed. (What runs is the engine's own copy anyway: see flows/run.ts.)
 */
import type { ContainerFs, Owner } from '../../native/files';
import { crypto } from '../../base/lazy';
import { ScopeError } from '../../base/errors';
import { undoOnInterrupt } from '../interrupt';
import type { Payload } from './manifest';

export const INSTALL_BASES = ['/usr/lib/scope-engine', '/tmp/scope-engine', '/dev/shm/scope-engine'];
export const MARKER = '.scope-engine-payload.json';

export interface Installed {
  dir: string;
  reused: boolean;
  files: string[];
  bytes: number;
}

export type Progress = (done: number, total: number, file: string) => void;

/** Where the next base is worth trying: this user may not write here, or this filesystem cannot take it. */
const FALL_THROUGH = new Set(['EROFS', 'ENOENT', 'ENOTDIR', 'ELOOP', 'ENOSPC', 'EDQUOT', 'EEXIST']);

export async function installPayload(fs: ContainerFs, payload: Payload, owner: Owner = {},
  progress?: Progress): Promise<Installed> {
  const failures: string[] = [];
  for (const base of INSTALL_BASES) {
    const dir = `${base}/${payload.version}`;
    try {
      if (await exists(fs, base)) await checkBase(fs, base, owner);
      if (await isInstalled(fs, dir, payload, owner)) return reused(dir, payload);
      return await install(fs, dir, base, payload, owner, progress);
    } catch (err) {
      const code = (err as ScopeError).code;
      const errno = String((err as ScopeError).details?.errno ?? '');
      if (code !== 'E_PERMISSION' && !(code === 'E_FILE' && FALL_THROUGH.has(errno))) throw err;
      failures.push((err as Error).message);
    }
  }
  throw new ScopeError('E_PERMISSION',
    `cannot install payload ${payload.name} ${payload.version} in the container: ${failures.join('; ')}`);
}

const ROOT: Owner = { uid: 0, gid: 0 };

function exists(fs: ContainerFs, path: string): Promise<boolean> {
  return fs.stat(path, ROOT).then(() => true, () => false);
}

/**
 * A base is used only when no one but the container's root and the installing user can rename
 * what is in it: owned by one of them, and sticky if others may write to it. (A base that another
 * user of the container made could have its install swapped for a symlink under a root loader.)
 */
export async function checkBase(fs: ContainerFs, base: string, owner: Owner): Promise<void> {
  const st = await fs.stat(base, ROOT);
  if (st.type !== 'directory') {
    throw new ScopeError('E_FILE', `${base} in the container is not a directory`, { details: { errno: 'ENOTDIR' } });
  }
  if (!fs.ownedBy(st, 0) && !fs.ownedBy(st, fs.ownerUid(owner))) {
    throw new ScopeError('E_PERMISSION',
      `${base} in the container belongs to uid ${st.uid}, who could swap the install; not used`);
  }
  if (st.mode & 0o022 && !(st.mode & 0o1000)) {
    throw new ScopeError('E_PERMISSION',
      `${base} in the container may be written by others and is not sticky; not used`);
  }
}

function reused(dir: string, payload: Payload): Installed {
  return { dir, reused: true, files: payload.files.map((f) => `${dir}/${f.path}`), bytes: 0 };
}

/**
 * Reused only when the same payload is there whole, byte for byte, in a directory of the target
 * user's (the loader writes beside its files).
 */
export async function isInstalled(fs: ContainerFs, dir: string, payload: Payload, owner: Owner): Promise<boolean> {
  try {
    const st = await fs.stat(dir, owner);
    if (st.type !== 'directory' || !fs.ownedBy(st, fs.ownerUid(owner))) return false;
    const marker = JSON.parse((await fs.read(`${dir}/${MARKER}`, owner)).toString()) as { hash?: string };
    if (marker.hash !== payload.hash) return false;
    for (const f of payload.files) {
      const path = `${dir}/${f.path}`;
      const fst = await fs.stat(path, owner);
      if (fst.type !== 'file' || fst.size !== f.data.length || fst.mode !== f.mode) return false;
      if (!(await fs.read(path, { ...owner, maxBytes: f.data.length })).equals(f.data)) return false;
    }
    return true;
  } catch {
    return false;
  }
}

async function install(fs: ContainerFs, dir: string, base: string, payload: Payload, owner: Owner,
  progress?: Progress): Promise<Installed> {
  // The base is the container root's; in /tmp and /dev/shm it is shared by every user of the
  // container, so it is sticky and world-writable, as they are, and each user's install is their own.
  const made = !(await exists(fs, base));
  await fs.mkdir(base, { ...ROOT, mode: base.startsWith('/usr/') ? 0o755 : 0o1777 });
  await checkBase(fs, base, owner);
  const fresh = `${base}/.scope-engine-${payload.version}.${crypto().randomBytes(6).toString('hex')}`;
  // Undoing (on failure or Ctrl-C) stops the next step, lets the one under way finish, then removes
  // the private directory; the base too when we made it, but only while empty.
  let undone = false;
  let underway: Promise<unknown> = Promise.resolve();
  const step = <T>(p: () => Promise<T>): Promise<T> => {
    if (undone) throw new ScopeError('E_INTERNAL', 'the install was interrupted');
    const run = p();
    underway = run;
    return run;
  };
  const remove = async () => {
    undone = true;
    await underway.catch(() => undefined);
    await fs.removeTree(fresh, owner);
    if (made) await fs.unlink(base, ROOT).catch(() => undefined);
  };
  const done = undoOnInterrupt(remove);
  try {
    await step(() => fs.mkdir(fresh, { ...owner, mode: 0o700 }));
    let bytes = 0;
    for (const [i, f] of payload.files.entries()) {
      progress?.(i, payload.files.length, f.path);
      await step(() => fs.write(`${fresh}/${f.path}`, f.data, { ...owner, mode: f.mode, parents: true }));
      bytes += f.data.length;
    }
    progress?.(payload.files.length, payload.files.length, '');
    await step(() => fs.write(`${fresh}/${MARKER}`,
      JSON.stringify({ name: payload.name, version: payload.version, hash: payload.hash }) + '\n',
      { ...owner, mode: 0o644 }));
    await step(() => fs.chmodDir(fresh, 0o755, owner));
    if (!(await moveIntoPlace(fs, fresh, dir, payload, owner))) {
      await remove();
      return reused(dir, payload);
    }
    return { dir, reused: false, files: payload.files.map((f) => `${dir}/${f.path}`), bytes };
  } catch (err) {
    await remove().catch(() => undefined);
    throw err;
  } finally {
    done();
  }
}

/**
 * Renames the finished install onto `dir`. Another engine may have put the same payload there
 * meanwhile (false: use that one); anything else there is foreign: swapped out, then removed.
 */
async function moveIntoPlace(fs: ContainerFs, fresh: string, dir: string, payload: Payload,
  owner: Owner): Promise<boolean> {
  try {
    await fs.rename(fresh, dir, 'noreplace', owner);
    return true;
  } catch (err) {
    const errno = (err as ScopeError).details?.errno;
    if (errno !== 'EEXIST' && errno !== 'ENOTEMPTY') throw err;
  }
  if (await isInstalled(fs, dir, payload, owner)) return false;
  const there = await fs.stat(dir, owner);
  if (!fs.ownedBy(there, fs.ownerUid(owner))) {
    throw new ScopeError('E_PERMISSION',
      `${dir} in the container belongs to uid ${there.uid}, not to the target's user ` +
      `${fs.ownerUid(owner)}; it is not replaced`);
  }
  await fs.rename(fresh, dir, 'exchange', owner);
  // Now `fresh` holds the foreign one. Ours is in place whatever happens to it: a tree too deep or
  // too large to remove stays under its hidden name, the container's own leftovers.
  await fs.removeTree(fresh, owner).catch(() => undefined);
  return true;
}
