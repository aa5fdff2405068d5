/**
 * Whether a daemon's socket found at a usual place may be believed: what answers there decides which
 * process the engine acts on, so it must be the socket of the user it claims to be (root's for the
 * system's runtimes, a user's for that user's rootless podman), in directories nobody else can change.
 */
import { lstatSync } from 'node:fs';
import { dirname } from 'node:path';

/**
 * Why `socketPath` is not `uid`'s, or undefined when it is: a socket owned by `uid`, in directories
 * owned by `uid` that neither group nor others may write, from its own up to `top`.
 */
export function notOwned(socketPath: string, uid: number, top: string): string | undefined {
  const who = uid === 0 ? 'root' : `UID ${uid}`;
  let st = lstatSync(socketPath, { throwIfNoEntry: false });
  if (!st) return 'no such socket';
  if (!st.isSocket() || st.uid !== uid) return `not a socket owned by ${who}`;
  for (let dir = dirname(socketPath); ; dir = dirname(dir)) {
    st = lstatSync(dir, { throwIfNoEntry: false });
    if (!st?.isDirectory() || st.uid !== uid || st.mode & 0o022) {
      return `${dir} is not a directory only ${who} may change`;
    }
    if (dir === top || dir === dirname(dir)) return undefined;
  }
}
