/**
 * Whether an answer on a container's command socket may be believed. An abstract socket has no
 * owner or mode: anything in the host's network namespace may bind a free name (a stopped
 * container's), and liblxc's own clients believe whatever listens there (so LXD's /state and
 * lxc-info would too). So the PID a monitor names is believed only when the kernel, which no
 * container can make say otherwise, shows that:
 * 1. the socket was made by root or by the owner of the lxcpath (an unprivileged user's containers
 *    live in that user's directory): not by another user, nor by a container's root, which the
 *    kernel reports under its mapped, unprivileged ID (SO_PEERCRED);
 * 2. the process named is a child of a process in the host's PID namespace (the engine's, which it
 *    checks is the host's): liblxc's monitor forks the container's init and stays outside it, where
 *    a process inside a container (whatever its cmdline says) is in that container's namespace;
 * 3. that parent holds the very socket that answered, the one listening under this name: so a
 *    listener can only ever name its own children, never another container's init.
 * An answer is never half-believed: one the kernel does not vouch for fails the call, and is never
 * handed on to a slower path (liblxc's tools would ask the same listener, and believe it).
 */
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { ScopeError } from '../../base/errors';

export interface Claim {
  /** The container's name, for messages. */
  name: string;
  /** The command socket's abstract name (without the NUL). */
  socket: string;
  /** The PID the monitor answered. */
  pid: number;
  /** Who made the listening socket (SO_PEERCRED). */
  peerUid: number;
  /** The lxcpath's owner on the host. */
  lxcpathOwner: number;
  /** The listener refused to answer root, which liblxc never does. */
  refusedRoot?: boolean;
}

/**
 * Returns when the kernel vouches for the claim (see above). Throws E_RUNTIME_ERROR when it
 * contradicts it, E_TARGET_GONE when the process or its parent went away while being checked (a
 * container stopping), E_PERMISSION when the engine may not look (no CAP_SYS_PTRACE: it could not
 * enter the container either).
 */
export function vouch(claim: Claim): void {
  const refuse = (why: string) => new ScopeError('E_RUNTIME_ERROR',
    `the command socket of LXC container "${claim.name}" (@${claim.socket}) answered, but ${why}: ` +
    'something other than its monitor answers there, and its answer is not used',
    { details: { container: claim.name, socket: claim.socket, pid: claim.pid } });
  if (claim.peerUid !== 0 && claim.peerUid !== claim.lxcpathOwner) {
    throw refuse(`the socket was made by UID ${claim.peerUid}, neither root nor the owner of its lxcpath ` +
      `(UID ${claim.lxcpathOwner})`);
  }
  if (claim.refusedRoot) throw refuse('it refused to answer root, which a monitor never does');
  if (!(claim.pid > 0)) throw refuse(`it named PID ${claim.pid}, which is no process`);
  try {
    const parent = parentOf(claim.pid);
    // 0: a parent outside the engine's PID namespace (the host's), as the kernel shows one.
    if (parent === 0 || readlinkSync(`/proc/${parent}/ns/pid`) !== readlinkSync('/proc/self/ns/pid')) {
      const who = parent ? `, PID ${parent},` : '';
      throw refuse(`the parent of the PID it named (${claim.pid})${who} runs inside a PID namespace of its ` +
        'own (a container), where no monitor runs');
    }
    const inode = listeningInode(claim.socket);
    if (inode === undefined) throw Object.assign(new Error('the socket stopped listening'), { code: 'ENOENT' });
    if (!holds(parent, inode)) {
      throw refuse(`the parent of the PID it named (${claim.pid}), PID ${parent}, does not hold the socket ` +
        `that answered (inode ${inode})`);
    }
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ESRCH') {
      throw new ScopeError('E_TARGET_GONE', `LXC container "${claim.name}" stopped while its monitor's answer ` +
        `(PID ${claim.pid}) was being checked: ${(err as Error).message}`, { cause: err });
    }
    if (code === 'EACCES' || code === 'EPERM') {
      throw new ScopeError('E_PERMISSION', `cannot check who answers on the command socket of LXC container ` +
        `"${claim.name}": ${(err as Error).message}; scope-engine needs CAP_SYS_PTRACE (as it does to enter)`,
      { cause: err });
    }
    throw err;
  }
}

/** The parent's PID from /proc/PID/stat; the comm field may hold spaces and parentheses, so the last ')' ends it. */
function parentOf(pid: number): number {
  const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
  return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
}

/**
 * The inode of the socket listening on the abstract name, from /proc/net/unix (this network
 * namespace's, where the engine connected): "Num RefCount Protocol Flags Type St Inode Path", where
 * a listening socket has the flag __SO_ACCEPTCON (00010000); the connections it accepted show the
 * same path without it. One listener at most: the kernel refuses to bind a name twice.
 */
function listeningInode(socket: string): number | undefined {
  const path = ` @${socket}`;
  for (const line of readFileSync('/proc/net/unix', 'latin1').split('\n')) {
    if (!line.endsWith(path)) continue;
    const fields = line.trim().split(/\s+/);
    if (fields[3] === '00010000') return Number(fields[6]);
  }
  return undefined;
}

/** Whether process `pid` has the socket of `inode` among its descriptors. */
function holds(pid: number, inode: number): boolean {
  const link = `socket:[${inode}]`;
  const dir = `/proc/${pid}/fd`;
  for (const fd of readdirSync(dir)) {
    try {
      if (readlinkSync(`${dir}/${fd}`) === link) return true;
    } catch {
      // closed while we looked
    }
  }
  return false;
}
