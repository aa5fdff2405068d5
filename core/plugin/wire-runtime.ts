/**
 * The adapter service of a plugin (plugins/proto/runtime.proto) read as a ContainerRuntime: what
 * the engine's host of plugin programs and the in-process test harness share, so that a plugin's
 * author tests exactly what the engine will see.
 */
import { ScopeError, type ErrorCode } from '../../base/errors';
import type { Container, ContainerRuntime, ProbeResult } from '../runtime';
import { STATUS_CODES } from './protos';
import { fromWire, type WireContainer } from './wire';

const STATUS_TO_CODE = new Map<number, ErrorCode>(STATUS_CODES);

/**
 * A plugin's gRPC status as the engine's error: the contract's table, else E_RUNTIME_ERROR, with the
 * plugin's words.
 */
export function statusError(plugin: string, err: { code: number; details: string }): ScopeError {
  return new ScopeError(STATUS_TO_CODE.get(err.code) ?? 'E_RUNTIME_ERROR', `${plugin}: ${err.details}`, { cause: err });
}

export abstract class WireRuntime implements ContainerRuntime {
  abstract readonly name: string;

  /** Calls `method` of the plugin's runtime service; rejects with a ScopeError. */
  protected abstract call<T>(method: 'Probe' | 'List' | 'Resolve', req: object): Promise<T>;

  /** How the plugin is reached, for `scope-engine runtimes`. */
  protected abstract get endpoint(): string;

  async probe(): Promise<ProbeResult> {
    const r = await this.call<{ available: boolean; reason: string; version: string }>('Probe', {});
    return {
      available: r.available, reason: r.reason || undefined, version: r.version || undefined,
      endpoint: this.endpoint,
    };
  }

  async list(): Promise<Container[]> {
    return (await this.call<{ containers: WireContainer[] }>('List', {})).containers.map((c) => fromWire(c, this.name));
  }

  async resolve(ref: string): Promise<Container> {
    return fromWire((await this.call<{ container: WireContainer }>('Resolve', { ref })).container, this.name);
  }
}
