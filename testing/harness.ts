/**
 * Adapters built exactly as the engine builds them, with what they read from the machine swapped:
 * unit tests run the built-ins on recorded answers this way, and an adapter's author tests theirs
 * without root, containers or a daemon.
 */
import { container as rootContainer, type DependencyContainer } from 'tsyringe';
import { Builtins } from '../core/builtins';
import { engineContainer } from '../core/index';
import { Registry } from '../core/registry';
import type { ContainerRuntime } from '../core/runtime';
import { Caller, Clock, Env, HostRoot, Spawn, type Options } from '../core/tokens';
import { HostRoot as HostFiles } from '../native/host-root';

/** What a test puts in place of the machine's. Unset: an empty environment, and the process's own for the rest. */
export interface Swaps {
  env?: Env;
  caller?: Caller;
  spawn?: Spawn;
  clock?: Clock;
  /** A directory standing for the host's root (its /run, /etc, /proc are read there). */
  hostRoot?: string;
  /** A registry other than the process-wide one the built-ins registered into. */
  registry?: Registry;
  /** Anything else to register first, e.g. a recording client in place of a built-in one. */
  register?: (c: DependencyContainer) => void;
}

export interface Built {
  adapter: ContainerRuntime;
  /** Closes the adapter and what it shares (a client), as the engine's close does. */
  close(): Promise<void>;
}

/** The container a test's engine or adapter is built in: `swaps` registered, the defaults for the rest. */
export function testContainer(swaps: Swaps = {}): DependencyContainer {
  const parent = rootContainer.createChildContainer();
  // A test's adapter must not see the machine's DOCKER_HOST or PATH unless the test gives them.
  parent.register(Env, { useValue: swaps.env ?? {} });
  if (swaps.caller) parent.register(Caller, { useValue: swaps.caller });
  if (swaps.spawn) parent.register(Spawn, { useValue: swaps.spawn });
  if (swaps.clock) parent.register(Clock, { useValue: swaps.clock });
  if (swaps.hostRoot) parent.register(HostRoot, { useValue: new HostFiles(swaps.hostRoot, { check: false }) });
  if (swaps.registry) parent.register(Registry, { useValue: swaps.registry });
  swaps.register?.(parent);
  return parent;
}

/** The built-in runtime `id` with plugins.json options `options`. */
export function buildBuiltin(id: string, options: Options = {}, swaps: Swaps = {}): Built {
  const builtins = engineContainer({ parent: testContainer(swaps) }).resolve(Builtins);
  const adapter = builtins.build({
    kind: 'builtin', name: id, builtin: id, options: { ...options }, file: { path: '(test)', origin: 'cli' }, index: 0,
  });
  return { adapter, close: async () => { await adapter.close?.(); await builtins.dispose(); } };
}
