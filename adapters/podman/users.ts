/**
 * Other users' rootless podman, for root: each user's service listens at the usual place,
 * /run/user/UID/podman/podman.sock. What such a service says is that user's word, and a user must
 * not steer root into a process that is not theirs: a PID it reports counts only if the process
 * is in a user namespace that user made (a rootless container of theirs).
 */
import { readdirSync, readFileSync } from 'node:fs';
import { ScopeError } from '../../base/errors';
import type { Container } from '../../core/runtime';
import type { HostRoot } from '../../core/tokens';
import { native } from '../../native/index';
import { notOwned } from '../owned-socket';
import { PodmanService } from './service';

export interface UserService {
  uid: number;
  /** The login name, or the UID when /etc/passwd has none. */
  user: string;
  service: PodmanService;
}

/**
 * The users' services whose socket, and the directories up to /run/user/UID, belong to the user the
 * directory is named after and nobody else may change, under the host's /run/user. Below it, paths
 * are the users' own: joined, never resolved, so that a link a user made there is refused, not followed.
 */
export function userServices(hostRoot: HostRoot, timeoutMs: number): UserService[] {
  const runUser = hostRoot.path('/run/user');
  let dirs: string[];
  try {
    dirs = readdirSync(runUser).filter((d) => /^[1-9]\d*$/.test(d));
  } catch {
    return [];
  }
  const names = loginNames(hostRoot);
  return dirs.flatMap((d) => {
    const uid = Number(d);
    const socketPath = `${runUser}/${d}/podman/podman.sock`;
    if (notOwned(socketPath, uid, `${runUser}/${d}`)) return [];
    return [{
      uid, user: names.get(uid) ?? String(uid),
      service: new PodmanService({ url: `unix://${socketPath}`, socketPath }, timeoutMs),
    }];
  });
}

/** `c` as found in `u`'s service, once its PID is checked to be a process of u's own containers. */
export function theirs(c: Container, u: UserService): Container {
  const found = { ...c, user: u.user };
  if (c.pid <= 0) return found;
  let owner: number | undefined;
  try {
    owner = native().userNsOwner(c.pid);
  } catch {
    owner = undefined; // exited meanwhile: resolving again will say so
  }
  if (owner !== undefined && owner !== u.uid) {
    throw new ScopeError('E_RUNTIME_ERROR',
      `the podman service of user ${u.user} reported PID ${c.pid} for ${c.name}, ` +
      `a process in a user namespace of UID ${owner}, not one of that user's containers: refused`,
      { details: { uid: u.uid, pid: c.pid, owner } });
  }
  return found;
}


function loginNames(hostRoot: HostRoot): Map<number, string> {
  const names = new Map<number, string>();
  try {
    for (const line of readFileSync(hostRoot.path('/etc/passwd'), 'utf8').split('\n')) {
      const [name, , uid] = line.split(':');
      if (name && uid && !names.has(Number(uid))) names.set(Number(uid), name);
    }
  } catch {
    // no names: UIDs will do
  }
  return names;
}
