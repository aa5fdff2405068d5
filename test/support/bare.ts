/**
 * Bare containers: container-like processes made from kernel objects alone, with util-linux's
 * unshare, so that the native core is tested without any runtime: a busybox root directory the
 * target is chrooted into,
 * its own PID and mount namespaces with a tmpfs on /tmp, and, for the "userns" kind, a user
 * namespace mapping 0-65535 inside to 100000-165535 on the host (as rootless podman and LXD do).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { chmodSync, chownSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync,
  writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export type BareKind = 'userns' | 'plain' | 'noshell';

export interface BareContainer {
  kind: BareKind;
  /** Host PID of the target (the chrooted `sleep`). */
  pid: number;
  /** Its root directory on the host. */
  root: string;
  /** Host ID of the container's root (100000 in a user namespace, else 0). */
  hostRoot: number;
  stop(): Promise<void>;
}

const APPLETS = ['env', 'sh', 'sleep', 'cat', 'id', 'stat', 'rm', 'ls', 'readlink', 'echo', 'ln', 'mkdir', 'test',
  'kill', 'wc', 'head'];
const BUSYBOX = '/bin/busybox';
export const USERNS_BASE = 100000;

function buildRoot(kind: BareKind): string {
  const root = mkdtempSync(join(tmpdir(), `se-${kind}-`));
  chmodSync(root, 0o755); // it is the container's /, which every user must be able to walk
  for (const d of ['bin', 'proc', 'tmp', 'etc', 'home/app', 'dev/shm']) mkdirSync(join(root, d), { recursive: true });
  if (kind === 'noshell') {
    // Nothing but the one program the target runs: no shell, no tools.
    copyFileSync(BUSYBOX, join(root, 'bin', 'sleep'));
  } else {
    copyFileSync(BUSYBOX, join(root, 'bin', 'busybox'));
    for (const a of APPLETS) symlinkSync('busybox', join(root, 'bin', a));
  }
  writeFileSync(join(root, 'etc', 'passwd'), 'root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n');
  writeFileSync(join(root, 'etc', 'group'), 'root:x:0:\napp:x:1000:\n');
  if (kind === 'userns') chownTree(root, USERNS_BASE);
  chownSync(join(root, 'home', 'app'), (kind === 'userns' ? USERNS_BASE : 0) + 1000,
    (kind === 'userns' ? USERNS_BASE : 0) + 1000);
  return root;
}

function chownTree(root: string, base: number): void {
  const walk = (p: string) => {
    chownSync(p, base, base);
    try {
      for (const e of require('node:fs').readdirSync(p, { withFileTypes: true })) {
        const child = join(p, e.name);
        if (e.isDirectory()) walk(child);
        else require('node:fs').lchownSync(child, base, base);
      }
    } catch {
      // not a directory
    }
  };
  walk(root);
}

export interface BareOptions {
  /** Host programs that exec the next word (setpriv, prlimit), run just before the chroot. */
  confine?: string[];
  /** Added to the target's environment, by env inside the chroot (static busybox: no host loader sees it). */
  env?: Record<string, string>;
}

/** Starts a target and waits until the chrooted sleep runs. */
export async function startBare(kind: BareKind, opts: BareOptions = {}): Promise<BareContainer> {
  const root = buildRoot(kind);
  const userns = kind === 'userns'
    ? ['--user', `--map-users=${USERNS_BASE},0,65536`, `--map-groups=${USERNS_BASE},0,65536`, '--setuid', '0',
      '--setgid', '0']
    : [];
  // The script runs as the namespaces' root before the chroot: its own tmpfs on /tmp, its own /proc.
  const script = `mount -t tmpfs -o mode=1777 tmpfs ${root}/tmp && ` +
    `mount -t tmpfs -o mode=1777 tmpfs ${root}/dev/shm && ` +
    `mount --rbind /proc ${root}/proc && exec ${(opts.confine ?? []).join(' ')} chroot ${root} ` +
    `${opts.env ? `/bin/env ${Object.entries(opts.env).map(([k, v]) => `${k}=${v}`).join(' ')} ` : ''}` +
    '/bin/sleep 100000';
  const unshare: ChildProcess = spawn('unshare', [...userns, '--pid', '--fork', '--mount-proc',
    '--propagation', 'private',
    BUSYBOX, 'sh', '-c', script], { stdio: ['ignore', 'ignore', 'pipe'] });
  let stderr = '';
  unshare.stderr!.on('data', (b) => { stderr += b; });
  const pid = await waitForSleep(unshare, () => stderr);
  return {
    kind,
    pid,
    root,
    hostRoot: kind === 'userns' ? USERNS_BASE : 0,
    async stop() {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
      if (unshare.exitCode === null && unshare.signalCode === null) await new Promise((r) => unshare.once('exit', r));
      rmSync(root, { recursive: true, force: true });
    },
  };
}

async function waitForSleep(unshare: ChildProcess, stderr: () => string): Promise<number> {
  for (let i = 0; i < 200; i++) {
    if (unshare.exitCode !== null) throw new Error(`unshare exited ${unshare.exitCode}: ${stderr()}`);
    try {
      const children = readFileSync(`/proc/${unshare.pid}/task/${unshare.pid}/children`, 'utf8').trim();
      const pid = Number(children.split(' ')[0]);
      if (pid && readFileSync(`/proc/${pid}/comm`, 'utf8').trim() === 'sleep' &&
        readFileSync(`/proc/${pid}/cmdline`, 'utf8').startsWith('/bin/sleep')) return pid;
    } catch {
      // not there yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  throw new Error(`the target did not start: ${stderr()}`);
}
