/** The addon's functions (native/src/addon.cc). Errors carry Node's usual code/errno/syscall/path. */
export interface NativeStat {
  mode: number;
  /** Host IDs, as the kernel stores them. */
  uid: number;
  gid: number;
  size: number;
  ino: number;
  dev: number;
  mtimeMs: number;
  linkTarget?: string;
}

export interface FileOpRequest {
  op: 'mkdir' | 'write' | 'symlink' | 'read' | 'stat' | 'unlink' | 'removeTree' | 'rename' | 'chmod';
  /** From openRoot(): every path resolves under it. */
  rootFd: number;
  path: string;
  /** write: the content; symlink: the link's target; rename: the new path. */
  data?: Buffer | string;
  mode?: number;
  dirMode?: number;
  parents?: boolean;
  /** stat: follow a symlink at the path (inside the root). */
  follow?: boolean;
  /** Host IDs the operation runs as (fsuid/fsgid on a thread of its own). */
  uid?: number;
  gid?: number;
  /** Keep the file capabilities a non-zero fsuid drops: for acting as the container's root. */
  keepCaps?: boolean;
  maxRead?: number;
  /** rename: refuse to replace (noreplace) or swap with (exchange) what is at the new path. */
  rename?: 'noreplace' | 'exchange';
}

export interface MqExchangeRequest {
  /** The target's pidfd: the thread joins its IPC namespace through it. */
  pidfd: number;
  inName: string;
  outName: string;
  messages: Buffer[];
  /** Host IDs that own the queues. */
  uid: number;
  gid: number;
  keepCaps?: boolean;
  timeoutMs?: number;
  /** The request's id: reply frames carrying another are dropped. */
  uniq?: number;
}

/** One question to an LXC container's monitor (native/src/lxc-command.h). */
export interface LxcCommandRequest {
  /** The command socket's abstract name, without the leading NUL: "<lxcpath>/<name>/command". */
  socket: string;
  /** liblxc's command number (LXC_CMD_GET_STATE 3, LXC_CMD_GET_INIT_PID 4). */
  command: number;
  timeoutMs?: number;
}

/** The monitor's answer, and who listens on the socket as the kernel tells it (SO_PEERCRED). */
export interface LxcCommandAnswer {
  /** 0, or -errno: -EPERM when the monitor does not answer this user. */
  ret: number;
  /** The word answered: a PID, a state. */
  value: number;
  /** The process that made the listening socket (it may have exited since: liblxc's forks), its UID and GID. */
  peerPid: number;
  peerUid: number;
  peerGid: number;
}

export interface Binding {
  pidfdOpen(pid: number): number;
  pidfdAlive(pidfd: number): boolean;
  /** Sends `signal` (a number) to the pinned process; one that has exited is not an error. */
  pidfdSignal(pidfd: number, signal: number): void;
  openRoot(pid: number): number;
  /** Where `path` is when resolved inside the directory `root` as if it were `/` (openat2 RESOLVE_IN_ROOT). */
  resolveInRoot(root: string, path: string): string;
  /** The host UID that made the process's user namespace (0 for the host's own). */
  userNsOwner(pid: number): number;
  closeFd(fd: number): void;
  /** An anonymous file (memfd, close-on-exec) holding `data`, read from its start; the caller closes it. */
  memfdOf(name: string, data: Buffer): number;
  fileOp(req: FileOpRequest): Promise<{ data?: Buffer; stat?: NativeStat }>;
  mqExchange(req: MqExchangeRequest): Promise<Buffer[]>;
  /** Rejects with code ECONNREFUSED when nothing listens, ETIMEDOUT, ECONNRESET, EPROTO. */
  lxcCommand(req: LxcCommandRequest): Promise<LxcCommandAnswer>;
}
