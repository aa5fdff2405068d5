/**
 * What the gRPC adapters (containerd's, CRI's) share beyond the call itself (base/grpc.ts): a daemon's
 * gRPC status as the engine's error.
 */
import { ScopeError } from '../base/errors';
import { GrpcError, Status } from '../base/grpc';

/**
 * The largest answer read from containerd or a CRI runtime: kubelet's, crictl's and ctr's limit, not
 * grpc-js's 4 MiB, since labels, specs and a pod's annotations (its preStop hooks, as JSON) can be large.
 */
export const DAEMON_MAX_BYTES = 16 << 20;

/**
 * A daemon's answer as the engine's error: NOT_FOUND is E_NOT_FOUND; a daemon that is not there or
 * too slow is E_RUNTIME_UNAVAILABLE; a refusal E_PERMISSION; anything else E_RUNTIME_ERROR, with its words.
 */
export function daemonError(err: unknown, daemon: string, endpoint: string, doing: string): ScopeError {
  if (!(err instanceof GrpcError)) {
    return new ScopeError('E_RUNTIME_ERROR', `${daemon} ${doing}: ${(err as Error).message}`, { cause: err });
  }
  const said = `${daemon} ${doing}: ${err.details || err.message}`;
  switch (err.code) {
    case Status.NOT_FOUND: return new ScopeError('E_NOT_FOUND', said, { cause: err });
    case Status.UNAVAILABLE:
    case Status.DEADLINE_EXCEEDED:
      return new ScopeError('E_RUNTIME_UNAVAILABLE', `${daemon} at ${endpoint} is not answering: ${err.details}`,
        { cause: err });
    case Status.PERMISSION_DENIED:
    case Status.UNAUTHENTICATED:
      return new ScopeError('E_PERMISSION', said, { cause: err });
    default: return new ScopeError('E_RUNTIME_ERROR', said, { cause: err });
  }
}
