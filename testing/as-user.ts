/**
 * A row that names a user runs as that user: a rootless runtime is that user's, and what the row
 * shows is what the engine does without root. Root runs the row in a child engine with the user's
 * IDs and the environment a login would give (HOME, XDG_RUNTIME_DIR), and reads its row back.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { PACKAGE_ROOT } from '../base/paths';
import { childRow, failedRow } from './child-row';
import type { LabRow, MatrixRow } from './context';

export interface Account {
  uid: number;
  gid: number;
  home: string;
}

/** The account of `name`: undefined when there is none. */
export function account(name: string): Account | undefined {
  const line = readFileSync('/etc/passwd', 'utf8').split('\n').find((l) => l.split(':')[0] === name);
  if (!line) return undefined;
  const [, , uid, gid, , home] = line.split(':');
  return { uid: Number(uid), gid: Number(gid), home };
}

/** `row`, run as its user; undefined when that user is the engine's own (the row runs here). */
export async function runRowAsUser(row: LabRow & { user: string }, labFile: string): Promise<MatrixRow | undefined> {
  const user = account(row.user);
  if (!user) return failedRow(row, `no user ${row.user} on this machine (the lab makes it: bash test/lab/setup.sh)`);
  if (user.uid === process.geteuid?.()) return undefined;
  const env = { HOME: user.home, USER: row.user, LOGNAME: row.user, XDG_RUNTIME_DIR: `/run/user/${user.uid}`,
    PATH: process.env.PATH ?? '/usr/bin:/bin', CI: process.env.CI,
    // The user's rootless docker, for the docker command (the peer exec) as its setup tool says to point it.
    ...(existsSync(`/run/user/${user.uid}/docker.sock`)
      ? { DOCKER_HOST: `unix:///run/user/${user.uid}/docker.sock` } : {}) };
  return childRow(row, [process.execPath, join(PACKAGE_ROOT, 'dist', 'cli', 'main.js'), 'matrix', '--lab', labFile,
    '--runtime', row.label, '--format', 'json'], { uid: user.uid, gid: user.gid, env, cwd: '/' }, `as ${row.user}`);
}
