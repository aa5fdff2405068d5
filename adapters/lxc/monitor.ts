/**
 * LXC containers, LXD's included, as liblxc finds them itself, without its tools: a container is
 * defined by its config file (LXCPATH/NAME/config), and a running one is served by its monitor (the
 * "[lxc monitor]" process that started it) on the abstract unix socket "LXCPATH/NAME/command". That
 * socket is what lxc-info asks, and what LXD asks for a container's PID (go-lxc's InitPid); asked
 * directly it answers in a fraction of a millisecond, where LXD's /state gathers every statistic
 * first (35-80 ms) and lxc-info costs a process. Every answer is held to what the kernel says of the
 * socket before it is believed (monitor-trust.ts).
 */
import { statSync } from 'node:fs';
import { inject, injectable } from 'tsyringe';
import { ScopeError } from '../../base/errors';
import { Caller, HostRoot } from '../../core/tokens';
import { native } from '../../native/index';
import { vouch } from './monitor-trust';

/** What a running container's monitor says of it, once the kernel has vouched for the monitor. */
export interface MonitorAnswer {
  /** liblxc's name of the state: RUNNING, FROZEN, STARTING, STOPPING... */
  state: string;
  /** The container's init as the host numbers it; 0 unless the state is RUNNING or FROZEN. */
  pid: number;
}

/** liblxc's lxc_cmd_t numbers (src/lxc/commands.h), the same since LXC 1.0. */
const LXC_CMD_GET_STATE = 3;
const LXC_CMD_GET_INIT_PID = 4;

/** liblxc's lxc_state_t, in its order (src/lxc/state.h). */
const STATES = ['STOPPED', 'STARTING', 'RUNNING', 'STOPPING', 'ABORTING', 'FREEZING', 'FROZEN', 'THAWED'];

/** sizeof(sockaddr_un.sun_path) less the leading NUL and the terminator liblxc leaves room for. */
const NAME_ROOM = 108 - 2;

/** FNV-1a, 64 bits, in 16 hex digits: liblxc's hash for socket names (fnv_64a_buf from FNV1A_64_INIT). */
export function fnv1a64(text: string): string {
  let hash = 0xcbf29ce484222325n;
  for (const byte of Buffer.from(text)) hash = ((hash ^ BigInt(byte)) * 0x100000001b3n) & 0xffffffffffffffffn;
  return hash.toString(16).padStart(16, '0');
}

/**
 * The abstract name of a container's command socket, as liblxc makes it (lxc_make_abstract_socket_name):
 * "LXCPATH/NAME/command", or when that does not fit, "lxc/HASH/command" with HASH that of "LXCPATH/NAME".
 */
export function commandSocketName(lxcpath: string, name: string): string {
  const plain = `${lxcpath}/${name}/command`;
  return Buffer.byteLength(plain) < NAME_ROOM ? plain : `lxc/${fnv1a64(`${lxcpath}/${name}`)}/command`;
}

/** Nothing listens: liblxc's clients take both for a container that is not running (lxc_cmd's "stopped"). */
const NOTHING_LISTENS = new Set(['ECONNREFUSED', 'ECONNRESET']);

@injectable()
export class LxcHost {
  constructor(@inject(HostRoot) private readonly hostRoot: HostRoot, @inject(Caller) private readonly caller: Caller) {}

  /** Whether liblxc calls the container defined (lxc-info's "doesn't exist" otherwise): its config file exists. */
  defined(lxcpath: string, name: string): boolean {
    if (name.includes('/')) return false;
    return statSync(this.hostRoot.path(`${lxcpath}/${name}/config`), { throwIfNoEntry: false })?.isFile() ?? false;
  }

  /**
   * What the monitor of `name` in `lxcpath` says: its init's PID, and with `state` its state; STOPPED
   * when nothing listens, as liblxc says. Undefined when it cannot be asked from here: the lxcpath is
   * not among the host's files as the engine sees them, or the monitor refuses this user (it answers
   * root and its owner only); the caller then asks as before. Throws E_RUNTIME_ERROR when the answer
   * is not the monitor's (see monitor-trust.ts), E_RUNTIME_UNAVAILABLE when none comes in time.
   */
  async monitor(lxcpath: string, name: string, { state = false, timeoutMs = 5000 } = {}):
    Promise<MonitorAnswer | undefined> {
    const owner = statSync(this.hostRoot.path(lxcpath), { throwIfNoEntry: false })?.uid;
    if (owner === undefined || name.includes('/')) return undefined;
    const socket = commandSocketName(lxcpath, name);
    const ask = (command: number) => native().lxcCommand({ socket, command, timeoutMs });
    let answers;
    try {
      answers = await Promise.all([ask(LXC_CMD_GET_INIT_PID), ...(state ? [ask(LXC_CMD_GET_STATE)] : [])]);
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code ?? '';
      if (NOTHING_LISTENS.has(code)) return { state: 'STOPPED', pid: 0 };
      if (code === 'ETIMEDOUT') {
        throw new ScopeError('E_RUNTIME_UNAVAILABLE',
          `the monitor of LXC container "${name}" (@${socket}) did not answer within ${timeoutMs} ms`, { cause: err });
      }
      throw new ScopeError('E_RUNTIME_ERROR',
        `asking the monitor of LXC container "${name}" (@${socket}): ${(err as Error).message}`, { cause: err });
    }
    const [pid, st] = answers;
    const claim = { name, socket, pid: pid.value, peerUid: pid.peerUid, lxcpathOwner: owner };
    if (answers.some((a) => a.ret < 0)) {
      // liblxc refuses no one but users other than root and its owner; a refusal to root is a lie.
      if (this.caller.uid === 0) vouch({ ...claim, refusedRoot: true });
      return undefined;
    }
    const stateName = st ? STATES[st.value] ?? 'UNKNOWN' : 'RUNNING';
    if (stateName !== 'RUNNING' && stateName !== 'FROZEN') return { state: stateName, pid: 0 };
    vouch(claim);
    return { state: stateName, pid: pid.value };
  }
}
