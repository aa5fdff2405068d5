/**
 * What the engine's parts take by injection (tsyringe tokens), each a thing a test swaps: the
 * environment, who the engine runs as, how it runs a runtime's tool, the clock, and where the
 * host's files are. Only the composition root (the CLI, a library user, a test) gives them values;
 * every other module asks for them here instead of reading process.env or calling getuid() itself.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { runTool, type ToolOptions } from '../base/tool';
import { HostRoot as HostFiles } from '../native/host-root';

/** The environment (DOCKER_HOST, XDG_RUNTIME_DIR, ...). */
export type Env = Readonly<Record<string, string | undefined>>;
export const Env = Symbol('Env');

/** The user the engine acts as: root sees every runtime's containers, a user only their own. */
export interface Caller {
  uid: number;
  gid: number;
}
export const Caller = Symbol('Caller');

/** Runs a runtime's command-line tool (lxc-info, podman) and returns what it printed; see base/tool.ts. */
export type Spawn = (cmd: string, args: string[], opts?: ToolOptions) => Promise<string>;
export const Spawn = Symbol('Spawn');

/** Time, for deadlines and polls. */
export interface Clock {
  now(): number;
  sleep(ms: number): Promise<void>;
}
export const Clock = Symbol('Clock');

/** Where the host's files are: "/" on the host, its mount (/hostfs) for an engine in a container. */
export type HostRoot = HostFiles;
export const HostRoot = Symbol('HostRoot');

/** A built-in adapter's options: its plugins.json entry's "options", with the CLI's flags for it on top. */
export type Options = Readonly<Record<string, unknown>>;
export const Options = Symbol('Options');

/** The values a process has: what a composition root registers unless it knows better. */
export const processDefaults = {
  env: (): Env => process.env,
  caller: (): Caller => ({ uid: process.geteuid?.() ?? 0, gid: process.getegid?.() ?? 0 }),
  spawn: runTool as Spawn,
  clock: { now: () => performance.now(), sleep: (ms: number) => sleep(ms).then(() => undefined) } as Clock,
  /** Found when first needed: --host-root's directory, else the host's root mounted here, else "/". */
  hostRoot: (dir?: string): HostRoot => new HostFiles(dir),
};
