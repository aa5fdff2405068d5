/** `ipc`: one request to the payload running in a container, over its message queues (native/ipc.ts). */
import { ipcRequest, type IpcAnswer } from '../../native/ipc';
import type { Engine } from '../engine';
import { withContainerTarget } from './target';

export async function askPayload(engine: Engine, selector: string, ref: string,
  opts: { request: string; pid?: number; timeoutMs: number }): Promise<IpcAnswer> {
  return withContainerTarget(engine, selector, ref, opts.pid,
    ({ target }) => ipcRequest(target, { req: opts.request }, opts.timeoutMs));
}
