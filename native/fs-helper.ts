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
export async function fileOpInUserns(target: Target, req: Omit<FileOpRequest, 'rootFd' | 'uid' | 'gid'>,
  uid: number, gid: number): Promise<HelperAnswer> {
  if (/[\n\0]/.test(req.path) || (req.op === 'rename' && /[\n\0]/.test(String(req.data)))) {
    throw Object.assign(new Error(`${req.path}: a path with a newline or NUL`), { code: 'EINVAL' });
  }
  const { third, data } = await ask(target, uid, gid, [
    `op ${req.op}`, `path ${req.path}`,
    req.mode !== undefined && `mode ${req.mode}`, req.dirMode !== undefined && `dirMode ${req.dirMode}`,
    req.parents && 'parents 1', req.follow && 'follow 1', req.maxRead !== undefined && `maxRead ${req.maxRead}`,
    req.rename && `rename ${req.rename}`,
  ], Buffer.from(req.data ?? ''));
  if (third === 'nostat') return { data };
  const [mode, uidOf, gidOf, size, ino, dev, mtimeMs] = third.split(' ').slice(1).map(Number);
  return { stat: { mode, uid: uidOf, gid: gidOf, size, ino, dev, mtimeMs }, data };
}

/**
 * The IPC exchange of ipc.ts in the target's user and IPC namespaces, queues owned by `uid`:`gid`: the
 * reply frames.
 */
export async function mqInUserns(target: Target,
  x: { inName: string; outName: string; message: Buffer; timeoutMs: number; uniq: number },
  uid: number, gid: number): Promise<Buffer[]> {
  const { third, data } = await ask(target, uid, gid,
    ['op mq', `inName ${x.inName}`, `outName ${x.outName}`, `timeoutMs ${x.timeoutMs}`, `uniq ${x.uniq}`],
    x.message, x.timeoutMs + 5000);
  const frames: Buffer[] = [];
  let at = 0;
  for (const len of third.replace(/^frames ?/, '').split(',').filter(Boolean).map(Number)) {
    frames.push(data.subarray(at, at + len));
    at += len;
  }
  return frames;
}

/** One request to scope-fs: its answer's third line and data, or its error as the addon words one. */
function ask(target: Target, uid: number, gid: number, header: (string | false | undefined)[], data: Buffer,
  timeoutMs = HELPER_TIMEOUT_MS): Promise<{ third: string; data: Buffer }> {
  return new Promise((resolve, reject) => {
    // Bounded: a file the container serves itself (FUSE) could otherwise hold the engine for ever.
    const child = spawn(fsHelperPath(), [
      '--pidfd', '3', '--pid', String(target.pid), '--uid', String(uid), '--gid', String(gid),
    ], {
      stdio: ['pipe', 'pipe', 'pipe', target.pidfd], env: {}, timeout: timeoutMs, killSignal: 'SIGKILL',
    });
    const out: Buffer[] = [];
    const err: Buffer[] = [];
    child.stdout!.on('data', (b: Buffer) => out.push(b));
    child.stderr!.on('data', (b: Buffer) => err.push(b));
    child.stdin!.on('error', () => undefined); // a helper that failed early says why on stdout
    child.stdin!.end(Buffer.concat([Buffer.from(`${header.filter(Boolean).join('\n')}\n\n`), data]));
    child.once('error', reject);
    child.once('close', (code) => {
      try {
        resolve(parseAnswer(Buffer.concat(out), code, Buffer.concat(err).toString(), timeoutMs));
      } catch (e) {
        reject(e);
      }
    });
  });
}

function parseAnswer(out: Buffer, code: number | null, stderr: string,
  timeoutMs: number): { third: string; data: Buffer } {
  const lines: string[] = [];
  let at = 0;
  for (let i = 0; i < 3 && at <= out.length; i++) {
    const nl = out.indexOf(10, at);
    if (nl < 0) break;
    lines.push(out.subarray(at, nl).toString());
    at = nl + 1;
  }
  const [status, path, third] = lines;
  if (status?.startsWith('error ')) {
    const [, errno, syscall] = status.split(' ');
    const name = ERRNO_NAMES.get(Number(errno)) ?? `errno ${errno}`;
    // As the addon words it: "syscall path: the system's words".
    throw Object.assign(new Error(`${syscall} ${path}: ${third}`),
      { code: name, errno: -Number(errno), syscall, path });
  }
  if (status !== 'ok' || third === undefined) {
    throw Object.assign(new Error(`scope-fs ended with ${code ?? 'a signal'} (killed after ${timeoutMs} ms?): ` +
      `${stderr.trim() || 'no answer'}`),
      { code: code === null ? 'ETIMEDOUT' : 'EIO' });
  }
  return { third, data: out.subarray(at) };
}
