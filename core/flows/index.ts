/**
 * What scope-engine does in a container, one module per command: the only way from a command to the
 * native core. Each flow resolves the container, pins its main process (target.ts) and acts on it.
 */
export { execIn, type ExecRequest } from './exec';
export { copyInto, parseCpDestination, type Copied } from './copy';
export { askPayload } from './ipc';
export { runPayload, type RunOptions, type RunResult } from './run';
export { stopPayload, type StopOptions, type StopResult } from './stop';
export { writeDconf, type DconfResult } from './dconf';
export { refuseOwnPidNamespace, refusePaused, withContainerTarget, type OpenedTarget } from './target';
export type { Progress } from '../payload/install';
export type { ExecProcess } from '../../native/exec';
export type { IpcAnswer } from '../../native/ipc';
export { NAMESPACES, parseNamespaces, type Namespace } from '../../native/target';
