/**
 * File operations in a user-namespaced container go through scope-fs (native/src/fs-helper.cc),
 * a process that joins the container's user namespace and takes the container's own IDs there,
 * so that the kernel grants exactly what that user has inside: the container's root overrides
 * permissions on the container's files and on nothing else. Same request and answer as the addon.
 */
import { spawn } from 'node:child_process';
import { constants as osConstants } from 'node:os';
import type { FileOpRequest, NativeStat } from './binding';
import { fsHelperPath } from './index';
import type { Target } from './target';

export interface HelperAnswer {
  stat?: NativeStat;
  data?: Buffer;
}

/** One file operation's bound; the largest payload file is written well within it. */
const HELPER_TIMEOUT_MS = 60_000;

const ERRNO_NAMES = new Map(Object.entries(osConstants.errno).map(([name, n]) => [n, name]));

/** Runs `req` in the target's user namespace as container IDs `uid`:`gid`. Rejects like the addon. */
export function fileOpInUserns(target: Target, req: Omit<FileOpRequest, 'rootFd' | 'uid' | 'gid'>, uid: number, gid: number): Promise<HelperAnswer> {
  if (/[\n\0]/.test(req.path) || (req.op === 'rename' && /[\n\0]/.test(String(req.data)))) {
    return Promise.reject(Object.assign(new Error(`${req.path}: a path with a newline or NUL`), { code: 'EINVAL' }));
  }
  const header = [
    `op ${req.op}`, `path ${req.path}`,
    req.mode !== undefined && `mode ${req.mode}`, req.dirMode !== undefined && `dirMode ${req.dirMode}`,
    req.parents && 'parents 1', req.follow && 'follow 1', req.maxRead !== undefined && `maxRead ${req.maxRead}`,
    req.rename && `rename ${req.rename}`,
  ].filter(Boolean).join('\n');
  return new Promise((resolve, reject) => {
    // Bounded: a file the container serves itself (FUSE) could otherwise hold the engine for ever.
    const child = spawn(fsHelperPath(), ['--pidfd', '3', '--pid', String(target.pid), '--uid', String(uid), '--gid', String(gid)], {
      stdio: ['pipe', 'pipe', 'pipe', target.pidfd], env: {}, timeout: HELPER_TIMEOUT_MS, killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.stdin!.on('error', () => undefined); // a helper that failed early says why on stdout
    child.stdin!.end(Buffer.concat([Buffer.from(`${header}\n\n`), Buffer.from(req.data ?? '')]));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(parseAnswer(Buffer.concat(out), code, Buffer.concat(err).toString()));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseAnswer(out: Buffer, code: number | null, stderr: string): HelperAnswer {
  const lines: string[] = [];
  let at = 0;
  for (let i = 0; i < 3 && at <= out.length; i++) {
    const nl = out.indexOf(10, at);
    if (nl < 0) break;
    lines.push(out.subarray(at, nl).toString());
    at = nl + 1;
  }
  const [status, path, stat] = lines;
  if (status?.startsWith('error ')) {
    const [, errno, syscall] = status.split(' ');
    const name = ERRNO_NAMES.get(Number(errno)) ?? `errno ${errno}`;
    // As the addon words it: "syscall path: the system's words".
    throw Object.assign(new Error(`${syscall} ${path}: ${stat}`), { code: name, errno: -Number(errno), syscall, path });
  }
  if (status !== 'ok' || stat === undefined) {
    throw Object.assign(new Error(`scope-fs ended with ${code ?? 'a signal'} (killed after ${HELPER_TIMEOUT_MS} ms?): ${stderr.trim() || 'no answer'}`),
      { code: code === null ? 'ETIMEDOUT' : 'EIO' });
  }
  if (stat === 'nostat') return { data: out.subarray(at) };
  const [mode, uid, gid, size, ino, dev, mtimeMs] = stat.split(' ').slice(1).map(Number);
  return { stat: { mode, uid, gid, size, ino, dev, mtimeMs }, data: out.subarray(at) };
}
