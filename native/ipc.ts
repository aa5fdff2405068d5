/**
 * The IPC channel to what runs inside a container, as AppScope's CLI speaks to its library: two
 * POSIX message queues in the container's IPC namespace, /ScopeIPCIn.<pid> (engine to payload) and
 * /ScopeIPCOut.<pid> (payload to engine), created by the engine for the target's user with mode
 * 0666, removed afterwards. A frame is a JSON header, a NUL, the data, a NUL; an answer's header
 * carries an HTTP-like status, 206 while more frames follow.
 */
import { crypto } from '../base/lazy';
import { ScopeError } from '../base/errors';
import { actingAs } from './files';
import { mqInUserns } from './fs-helper';
import { native } from './index';
import type { Target } from './target';

export interface IpcAnswer {
  status: number;
  data: unknown;
}

export function encodeFrame(header: object, data: string): Buffer {
  return Buffer.concat([Buffer.from(JSON.stringify(header)), Buffer.of(0), Buffer.from(data), Buffer.of(0)]);
}

export function decodeFrame(frame: Buffer): { header: Record<string, unknown>; data: string } {
  const end = frame.indexOf(0);
  if (end < 0) throw new ScopeError('E_RUNTIME_ERROR', 'IPC answer without a header terminator');
  const dataEnd = frame.indexOf(0, end + 1);
  let header: unknown;
  try {
    header = JSON.parse(frame.subarray(0, end).toString());
  } catch {
    header = undefined;
  }
  if (!header || typeof header !== 'object' || Array.isArray(header)) throw new ScopeError('E_RUNTIME_ERROR',
    'an IPC answer\'s header is not a JSON object');
  return {
    header: header as Record<string, unknown>,
    data: frame.subarray(end + 1, dataEnd < 0 ? frame.length : dataEnd).toString(),
  };
}

/** Sends one request to the payload running for `target` and waits for its whole answer. */
export async function ipcRequest(target: Target, request: object, timeoutMs = 5000): Promise<IpcAnswer> {
  const data = JSON.stringify(request);
  const uniq = crypto().randomInt(1, 2 ** 31);
  const message = encodeFrame({ req: 0, uniq, remain: Buffer.byteLength(data) + 1 }, data);
  const queue = (dir: string) => `/ScopeIPC${dir}.${target.nsPid}`;
  target.assertAlive();
  let frames: Buffer[];
  try {
    // A user-namespaced container's queues are made by a helper that joins it as the target's user.
    frames = target.uidMap.isIdentity()
      ? await native().mqExchange({
        pidfd: target.pidfd, inName: queue('In'), outName: queue('Out'), messages: [message], timeoutMs, uniq,
        ...actingAs(target),
      })
      : await mqInUserns(target, { inName: queue('In'), outName: queue('Out'), message, timeoutMs, uniq },
        target.uidMap.toContainer(target.uid), target.gidMap.toContainer(target.gid));
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ETIMEDOUT') {
      throw new ScopeError('E_IPC_TIMEOUT',
        `no answer on ${queue('Out')} within ${timeoutMs} ms: is a payload running ` +
        `for PID ${target.nsPid} in the container (scope-engine run --detach)?`, { cause: err });
    }
    throw new ScopeError(code === 'EPERM' || code === 'EACCES' ? 'E_PERMISSION' : 'E_NAMESPACE',
      `IPC with PID ${target.pid}: ${(err as Error).message}`, { cause: err });
  }
  return answerOf(frames, uniq);
}

/**
 * The answer in the frames received for request `uniq`. They came from inside the container: each
 * is checked again, and nothing in them is trusted to be well formed.
 */
export function answerOf(frames: Buffer[], uniq: number): IpcAnswer {
  const decoded = frames.map(decodeFrame);
  const last = decoded[decoded.length - 1];
  if (!last || decoded.some((f) => f.header.uniq !== uniq)) throw new ScopeError('E_RUNTIME_ERROR',
    'an IPC answer is not for our request');
  const status = last.header.status;
  if (typeof status !== 'number' || !Number.isInteger(status) || status < 100 || status > 599) {
    throw new ScopeError('E_RUNTIME_ERROR',
      `the payload's IPC answer has no valid status (${JSON.stringify(status)?.slice(0, 40)})`);
  }
  const body = decoded.map((f) => f.data).join('');
  let parsed: unknown = body;
  try {
    parsed = JSON.parse(body);
  } catch {
    // Not JSON: hand the text on as it is (the CLI escapes it for the terminal).
  }
  return { status, data: parsed };
}
