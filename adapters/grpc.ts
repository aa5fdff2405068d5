/**
 * What the gRPC adapters (containerd's, CRI's) share: grpc-js and their protos loaded on first use,
 * a unary call that always has a deadline, and a daemon's gRPC status as the engine's error.
 */
import type * as grpc from '@grpc/grpc-js';
import { ScopeError } from '../base/errors';
import { protoDefinitions } from '../base/protos';

export type Unary = (req: object, meta: grpc.Metadata, opts: grpc.CallOptions,
  cb: (err: grpc.ServiceError | null, res: unknown) => void) => void;
export type Service = Record<string, Unary> & grpc.Client;

/**
 * grpc-js and the package tree of the .proto files in `dir` (base/protos.ts); loading costs tens of
 * milliseconds, so only when a call needs it.
 */
export function loadProtos(dir: string): { grpc: typeof grpc; pkg: any } {
  const grpcJs = require('@grpc/grpc-js') as typeof grpc;
  return { grpc: grpcJs, pkg: grpcJs.loadPackageDefinition(protoDefinitions(dir)) };
}

/** `method` of `service`, bounded by `deadlineMs`; rejects with the daemon's status as grpc-js reports it. */
export function unary<T>(service: Service, method: string, req: object, meta: grpc.Metadata,
  deadlineMs: number): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    service[method].call(service, req, meta, { deadline: Date.now() + deadlineMs }, (err, res) => {
      if (err) reject(err);
      else resolve(res as T);
    });
  });
}

/**
 * A daemon's answer as the engine's error: NOT_FOUND is E_NOT_FOUND; a daemon that is not there or
 * too slow is E_RUNTIME_UNAVAILABLE; a refusal E_PERMISSION; anything else E_RUNTIME_ERROR, with its words.
 */
export function daemonError(status: typeof grpc.status, err: grpc.ServiceError, daemon: string, endpoint: string,
  doing: string): ScopeError {
  const said = `${daemon} ${doing}: ${err.details || err.message}`;
  switch (err.code) {
    case status.NOT_FOUND: return new ScopeError('E_NOT_FOUND', said, { cause: err });
    case status.UNAVAILABLE:
    case status.DEADLINE_EXCEEDED:
      return new ScopeError('E_RUNTIME_UNAVAILABLE', `${daemon} at ${endpoint} is not answering: ${err.details}`,
        { cause: err });
    case status.PERMISSION_DENIED:
    case status.UNAUTHENTICATED:
      return new ScopeError('E_PERMISSION', said, { cause: err });
    default: return new ScopeError('E_RUNTIME_ERROR', said, { cause: err });
  }
}
