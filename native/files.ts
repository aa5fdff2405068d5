/**
 * ID-mapped file operations inside a target's container. Paths are the container's; owners are
 * the container's IDs (default: the target process's), mapped to the host through its uid_map and
 * gid_map. An operation for a non-root user runs, on a thread of its own, with that user's host
 * IDs as fsuid/fsgid: files come out owned by it, and nothing is written where it could not write.
 * The container's root holds every capability over its container's files, which a bare fsuid of
 * (say) 100000 would not: its operations keep the engine's file capabilities. They never run with
 * fsuid 0 when the container's root is not host root, because a filesystem mounted inside a user
 * namespace (a tmpfs /dev/shm, say) refuses to create files owned by IDs unmapped there (EOVERFLOW).
 */
import { ScopeError } from '../base/errors';
import type { FileOpRequest, NativeStat } from './binding';
import { fileOpInUserns } from './fs-helper';
import type { IdMap } from '../base/idmap';
import { native } from './index';
import type { Target } from './target';

/** What a user namespace shows for an ID it does not map. */
const OVERFLOW_ID = 65534;

export interface Owner {
  /** IDs as the container sees them. */
  uid?: number;
  gid?: number;
}

export interface WriteOptions extends Owner {
  /** The file's mode, exactly (the umask does not apply). Default 0644. */
  mode?: number;
  /** Make missing parent directories (owned the same way) with this mode, default 0755. */
  parents?: boolean;
  dirMode?: number;
}

export type FileType = 'file' | 'directory' | 'symlink' | 'other';

export interface ContainerStat {
  type: FileType;
  /** Permission bits. */
  mode: number;
  /** Owner as the container sees it (65534 when the host owner is unmapped there). */
  uid: number;
  gid: number;
  hostUid: number;
  hostGid: number;
  size: number;
  linkTarget?: string;
}

export class ContainerFs {
  constructor(private readonly target: Target) {}

  /** Writes a whole file atomically: readers see the old content or the new, never half. */
  async write(path: string, data: Buffer | string, opts: WriteOptions = {}): Promise<ContainerStat | undefined> {
    const r = await this.run({
      op: 'write', path, data, mode: opts.mode ?? 0o644, parents: opts.parents, dirMode: opts.dirMode,
    }, opts, 'writing');
    return r.stat && this.toStat(r.stat);
  }

  /** mkdir -p. An existing directory is fine; anything else in the way is E_FILE. */
  async mkdir(path: string, opts: Owner & { mode?: number } = {}): Promise<void> {
    await this.run({ op: 'mkdir', path, mode: opts.mode ?? 0o755, dirMode: opts.mode ?? 0o755 }, opts,
      'making directory');
  }

  /** Creates (or atomically replaces) a symlink at `path` pointing to `linkTarget`. */
  async symlink(linkTarget: string, path: string, opts: Owner & { parents?: boolean } = {}): Promise<void> {
    await this.run({ op: 'symlink', path, data: linkTarget, parents: opts.parents }, opts, 'making symlink');
  }

  /** Reads a regular file; with `noFollow`, a symlink at the path itself is refused (ELOOP). */
  async read(path: string, opts: Owner & { maxBytes?: number; noFollow?: boolean } = {}): Promise<Buffer> {
    const r = await this.run({ op: 'read', path, maxRead: opts.maxBytes, follow: !opts.noFollow }, opts, 'reading');
    return r.data!;
  }

  /** lstat: a symlink is described, not followed, unless `follow` (which stays inside the root). */
  async stat(path: string, opts: Owner & { follow?: boolean } = {}): Promise<ContainerStat> {
    const r = await this.run({ op: 'stat', path, follow: opts.follow }, opts, 'inspecting');
    return this.toStat(r.stat!);
  }

  /** rm -r: never follows a symlink nor crosses into another mount; a missing path is fine. */
  async removeTree(path: string, opts: Owner = {}): Promise<void> {
    await this.run({ op: 'removeTree', path }, opts, 'removing');
  }

  /** Renames `from` to `to`: refusing to replace what is there, or swapping the two. */
  async rename(from: string, to: string, how: 'noreplace' | 'exchange', opts: Owner = {}): Promise<void> {
    await this.run({ op: 'rename', path: from, data: to, rename: how }, opts, `renaming to ${to}`);
  }

  /** Sets a directory's mode exactly (never through a symlink). */
  async chmodDir(path: string, mode: number, opts: Owner = {}): Promise<void> {
    await this.run({ op: 'chmod', path, mode }, opts, 'changing the mode of');
  }

  /** Removes a file, a symlink or an empty directory. */
  async unlink(path: string, opts: Owner = {}): Promise<void> {
    await this.run({ op: 'unlink', path }, opts, 'removing');
  }

  /**
   * Whether `st` belongs to container user `uid`, compared on the host: an owner the container
   * cannot name shows there as 65534 and must never pass for a target running as nobody.
   */
  ownedBy(st: ContainerStat, uid: number): boolean {
    return this.target.uidMap.hasContainer(uid) && st.hostUid === this.target.uidMap.toHost(uid);
  }

  /** The owner's uid as the container sees it (the target's own by default). */
  ownerUid(owner: Owner = {}): number {
    return owner.uid ?? this.target.uidMap.toContainer(this.target.uid);
  }

  private async run(req: Omit<FileOpRequest, 'rootFd' | 'uid' | 'gid'>, owner: Owner, doing: string) {
    const ids = actingAs(this.target, owner);
    try {
      if (this.target.uidMap.isIdentity()) return await native().fileOp({
        ...req, rootFd: this.target.rootFd(), ...ids,
      });
      // In a user namespace: a helper that joins it, with the container's own IDs (fs-helper.ts).
      const uid = owner.uid ?? this.target.uidMap.toContainer(this.target.uid);
      const gid = owner.gid ?? this.target.gidMap.toContainer(this.target.gid);
      const r = await fileOpInUserns(this.target, req, uid, gid);
      if (!r.stat) return { data: r.data };
      // The helper sees the container's IDs; callers get host IDs, as from the addon.
      const host = (id: number, map: IdMap) => (id === OVERFLOW_ID || !map.hasContainer(id) ? id : map.toHost(id));
      const stat = { ...r.stat, uid: host(r.stat.uid, this.target.uidMap), gid: host(r.stat.gid, this.target.gidMap) };
      return {
        stat: req.op === 'stat' && r.data?.length ? { ...stat, linkTarget: r.data.toString() } : stat,
        data: r.data,
      };
    } catch (err) {
      this.target.assertAlive();
      throw fileError(err, `${doing} ${req.path} in the container of PID ${this.target.pid}`);
    }
  }

  private toStat(s: NativeStat): ContainerStat {
    const kind = s.mode & 0o170000;
    return {
      type: kind === 0o100000 ? 'file' : kind === 0o040000 ? 'directory' : kind === 0o120000 ? 'symlink' : 'other',
      mode: s.mode & 0o7777,
      uid: this.target.uidMap.toContainerOrOverflow(s.uid),
      gid: this.target.gidMap.toContainerOrOverflow(s.gid),
      hostUid: s.uid,
      hostGid: s.gid,
      size: s.size,
      linkTarget: s.linkTarget,
    };
  }
}

/**
 * The credentials a thread of the engine takes to act inside the target's container for `owner`
 * (container IDs, default the target process's own): its host IDs, plus the file capabilities
 * when it is the container's root and that root is the host's. The root of a user-namespaced
 * container has its capabilities over its own files only; the engine's, kept, would reach files
 * the container may not touch (a host directory bind-mounted in): there it acts as the mapped user.
 */
export function actingAs(t: Target, owner: Owner = {}): { uid: number; gid: number; keepCaps: boolean } {
  const uid = owner.uid ?? t.uidMap.toContainer(t.uid);
  const gid = owner.gid ?? t.gidMap.toContainer(t.gid);
  return { uid: t.uidMap.toHost(uid), gid: t.gidMap.toHost(gid), keepCaps: uid === 0 && t.uidMap.toHost(0) === 0 };
}

function fileError(err: unknown, doing: string): ScopeError {
  const code = (err as NodeJS.ErrnoException).code;
  // The native write says EEXIST for what it will not replace: a device, FIFO or socket.
  const why = code === 'EEXIST' && doing.startsWith('writing')
    ? 'a device, FIFO or socket is there, which is never replaced'
    : (err as Error).message;
  const message = `${doing}: ${why}`;
  if (code === 'EACCES' || code === 'EPERM') return new ScopeError('E_PERMISSION', message,
    { cause: err, details: { errno: code } });
  return new ScopeError('E_FILE', message, { cause: err, details: { errno: code } });
}
