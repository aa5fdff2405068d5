/** The plugin protocol's service definitions, loaded once and shared by the host and the SDK. */
import { join } from 'node:path';
import type * as grpc from '@grpc/grpc-js';
import type { ErrorCode } from '../../base/errors';
import { PACKAGE_ROOT } from '../../base/paths';
import { protoDefinitions } from '../../base/protos';

export const PROTO_DIR = join(PACKAGE_ROOT, 'plugins', 'proto');

export interface PluginProtos {
  grpc: typeof grpc;
  runtime: grpc.ServiceClientConstructor;
  health: grpc.ServiceClientConstructor;
  controller: grpc.ServiceClientConstructor;
  stdio: grpc.ServiceClientConstructor;
}

let loaded: PluginProtos | undefined;

/** grpc-js and the protos load on first use: an engine that starts no plugin pays nothing. */
export function pluginProtos(): PluginProtos {
  if (loaded) return loaded;
  const grpcJs = require('@grpc/grpc-js') as typeof grpc;
  const pkg = grpcJs.loadPackageDefinition(protoDefinitions(PROTO_DIR)) as any;
  loaded = {
    grpc: grpcJs,
    runtime: pkg.scopeengine.runtime.v1.ContainerRuntime,
    health: pkg.grpc.health.v1.Health,
    controller: pkg.plugin.GRPCController,
    stdio: pkg.plugin.GRPCStdio,
  };
  return loaded;
}

/** go-plugin's magic cookie for scope-engine's runtime adapters: a UX guard, not security. */
export const MAGIC_COOKIE_KEY = 'SCOPE_ENGINE_PLUGIN';
export const MAGIC_COOKIE_VALUE = 'runtime-adapter-v1';
export const APP_PROTOCOL_VERSION = 1;
export const CORE_PROTOCOL_VERSION = 1;
/** The service name plugins report SERVING under (go-plugin's GRPCServiceName). */
export const HEALTH_SERVICE = 'plugin';

/**
 * The contract's error table (plugins/PROTOCOL.md): gRPC status codes (NOT_FOUND 5,
 * FAILED_PRECONDITION 9, INVALID_ARGUMENT 3, UNAVAILABLE 14, PERMISSION_DENIED 7) and the engine
 * codes they stand for. The host reads it one way, the SDK the other.
 */
export const STATUS_CODES: readonly [number, ErrorCode][] = [
  [5, 'E_NOT_FOUND'], [9, 'E_NOT_RUNNING'], [3, 'E_AMBIGUOUS'], [14, 'E_RUNTIME_UNAVAILABLE'], [7, 'E_PERMISSION'],
];
