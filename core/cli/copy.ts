/** `scope-engine cp`: host files and directories into a container through ContainerFs. */
import { readdir, readFile, stat } from 'node:fs/promises';
import { basename, join, posix } from 'node:path';
import type { ContainerFs, Owner } from '../../native/files';
import { ScopeError } from '../errors';

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
}

export function parseCpDestination(arg: string): { ref: string; path: string } {
  const i = arg.indexOf(':');
  if (i <= 0 || i === arg.length - 1) {
    throw new ScopeError('E_USAGE', `invalid destination "${arg}": give CONTAINER:PATH, e.g. web:/tmp/`);
  }
  const path = arg.slice(i + 1);
  return { ref: arg.slice(0, i), path: path.startsWith('/') ? path : `/${path}` };
}

export async function copyIn(fs: ContainerFs, src: string, dest: string, opts: CopyOptions): Promise<Copied[]> {
  if (src === '-') {
    if (dest.endsWith('/')) throw new ScopeError('E_USAGE', 'copying stdin needs a file name as destination');
    return [await copyFile(fs, await readStdin(), opts.mode ?? 0o644, dest, opts)];
  }
  let st;
  try {
    st = await stat(src);
  } catch (err) {
    throw new ScopeError('E_USAGE', `cannot read ${src}: ${(err as Error).message}`, { cause: err });
  }
  let target = dest;
  if (dest.endsWith('/') || (await isDirectory(fs, dest, opts.owner))) target = posix.join(dest, basename(src));
  const copied: Copied[] = [];
  await copyTree(fs, src, target, opts, copied);
  return copied;
}

async function copyTree(fs: ContainerFs, src: string, dest: string, opts: CopyOptions, copied: Copied[]): Promise<void> {
  const st = await stat(src);
  if (st.isDirectory()) {
    await fs.mkdir(dest, { ...opts.owner, mode: st.mode & 0o7777 });
    for (const name of await readdir(src)) await copyTree(fs, join(src, name), posix.join(dest, name), opts, copied);
    return;
  }
  if (!st.isFile()) throw new ScopeError('E_USAGE', `${src} is not a regular file or a directory`);
  copied.push(await copyFile(fs, await readFile(src), opts.mode ?? st.mode & 0o7777, dest, opts));
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
