/**
 * The container record as plugins/proto/runtime.proto carries it between a plugin and the engine,
 * and the one place where it becomes a Container and back: runtime.proto has no user-namespace
 * maps, spec or user, so those never cross.
 */
import type { Container, ContainerState } from '../runtime';

export interface WireContainer {
  id: string;
  name: string;
  state: string;
  pid: number;
  labels: Record<string, string>;
  image: string;
}

const STATES: readonly string[] =
  ['running', 'paused', 'created', 'stopped', 'restarting', 'unknown'] satisfies ContainerState[];

/** What a plugin sends for `c`. */
export function toWire(c: Container): WireContainer {
  return { id: c.id, name: c.name, state: c.state, pid: c.pid, labels: c.labels ?? {}, image: c.image ?? '' };
}

/** The Container a plugin's record stands for, in the adapter named `runtime`; a state it made up is "unknown". */
export function fromWire(w: WireContainer, runtime: string): Container {
  const state = (STATES.includes(w.state) ? w.state : 'unknown') as ContainerState;
  return { runtime, id: w.id, name: w.name, state, pid: w.pid, labels: w.labels ?? {}, image: w.image ?? '' };
}
