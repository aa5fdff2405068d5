/**
 * `scope-engine cp`: host files and directories into a container through ContainerFs, as docker
 * cp does: symlinks in the source are copied as symlinks, never followed (so a link to the host's
 * /etc/shadow stays a link, and a link to .. cannot loop); sockets, devices and FIFOs are refused.
 * A directory copy that fails or is interrupted removes the directory it made.
 */
// fs.promises loads on first use; node:fs/promises would load at every command's start.
import { promises as fsp, type Stats } from 'node:fs';
import { basename, join, posix } from 'node:path';
import { ContainerFs, type Owner } from '../../native/files';
import type { Engine } from '../engine';
import { ScopeError } from '../../base/errors';
import { undoOnInterrupt } from '../interrupt';
import { withContainerTarget } from './target';
import { parseUserSpec } from './user-spec';

export interface CopyOptions {
  owner?: Owner;
  /** Forces this mode on every copied file; directories keep their source mode. */
  mode?: number;
}

export interface Copied {
  path: string;
  bytes: number;
  mode: number;
  uid: number;
  gid: number;
  /** A symlink's target, for a symlink copied as one. */
  link?: string;
}

export function parseCpDestination(arg: string): { ref: string; path: string } {
  const i = arg.indexOf(':');
  if (i <= 0 || i === arg.length - 1) {
    throw new ScopeError('E_USAGE', `invalid destination "${arg}": give CONTAINER:PATH, e.g. web:/tmp/`);
  }
  const path = arg.slice(i + 1);
  return { ref: arg.slice(0, i), path: path.startsWith('/') ? path : `/${path}` };
}

/** `cp SRC CONTAINER:DEST`: `owner` is "user:group" as the container names them (default the main process's). */
export async function copyInto(engine: Engine, selector: string, ref: string, src: string, dest: string,
  opts: { owner?: string; mode?: number }): Promise<Copied[]> {
  return withContainerTarget(engine, selector, ref, undefined, async ({ target }) => {
    const fs = new ContainerFs(target);
    const owner = opts.owner !== undefined ? await parseUserSpec(opts.owner, fs) : undefined;
    return copyIn(fs, src === '-' ? src : engine.hostRoot.userPath(src), dest, { owner, mode: opts.mode });
  });
}

export async function copyIn(fs: ContainerFs, src: string, dest: string, opts: CopyOptions): Promise<Copied[]> {
  if (src === '-') {
    if (dest.endsWith('/')) throw new ScopeError('E_USAGE', 'copying stdin needs a file name as destination');
    return [await copyFile(fs, await readStdin(), opts.mode ?? 0o644, dest, opts)];
  }
  const st = await sourceStat(src);
  let target = dest;
  if (dest.endsWith('/') || (await isDirectory(fs, dest, opts.owner))) target = posix.join(dest, basename(src));
  const copied: Copied[] = [];
  // A new directory tree is removed whole if the copy does not finish; files replace atomically anyway.
  const fresh = st.isDirectory() && !(await exists(fs, target, opts.owner));
  const remove = () => fs.removeTree(target, opts.owner);
  const done = fresh ? undoOnInterrupt(remove) : () => undefined;
  try {
    await copyTree(fs, src, st, target, opts, copied);
  } catch (err) {
    if (fresh) await remove().catch(() => undefined);
    throw err;
  } finally {
    done();
  }
  return copied;
}

async function sourceStat(src: string): Promise<Stats> {
  try {
    return await fsp.lstat(src);
  } catch (err) {
    throw new ScopeError('E_USAGE', `cannot read ${src}: ${(err as Error).message}`, { cause: err });
  }
}

async function copyTree(fs: ContainerFs, src: string, st: Stats, dest: string, opts: CopyOptions,
  copied: Copied[]): Promise<void> {
  if (st.isDirectory()) {
    await fs.mkdir(dest, { ...opts.owner, mode: st.mode & 0o7777 });
    for (const name of await fsp.readdir(src)) {
      const child = join(src, name);
      await copyTree(fs, child, await sourceStat(child), posix.join(dest, name), opts, copied);
    }
    return;
  }
  if (st.isSymbolicLink()) {
    const link = await fsp.readlink(src);
    await fs.symlink(link, dest, opts.owner);
    copied.push({ path: dest, bytes: 0, mode: 0o777, uid: -1, gid: -1, link });
    return;
  }
  if (!st.isFile()) throw new ScopeError('E_USAGE',
    `${src} is a ${kindOf(st)}: cp copies files, directories and symlinks`);
  copied.push(await copyFile(fs, await fsp.readFile(src), opts.mode ?? st.mode & 0o7777, dest, opts));
}

function kindOf(st: Stats): string {
  return st.isSocket() ? 'socket' : st.isFIFO() ? 'FIFO'
    : st.isCharacterDevice() || st.isBlockDevice() ? 'device' : 'special file';
}

async function exists(fs: ContainerFs, path: string, owner?: Owner): Promise<boolean> {
  return fs.stat(path, owner).then(() => true, () => false);
}

async function copyFile(fs: ContainerFs, data: Buffer, mode: number, dest: string, opts: CopyOptions): Promise<Copied> {
  const st = await fs.write(dest, data, { ...opts.owner, mode });
  return { path: dest, bytes: data.length, mode, uid: st?.uid ?? -1, gid: st?.gid ?? -1 };
}

async function isDirectory(fs: ContainerFs, path: string, owner?: Owner): Promise<boolean> {
  try {
    return (await fs.stat(path, { ...owner, follow: true })).type === 'directory';
  } catch {
    return false;
  }
}

async function readStdin(): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks);
}
