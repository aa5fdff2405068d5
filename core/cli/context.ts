/** Running one CLI command: build the engine from the global options, run, close, map errors to exit codes. */
import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import type { ExecProcess } from '../../native/exec';
import { createEngine } from '../index';
import { AUTO, type Engine } from '../engine';
import { toScopeError } from '../errors';
import { hasPendingUndo, undoAll } from '../interrupt';
import { reportError } from './output';

/** The --runtime help of every command that acts on one container. */
export const RUNTIME_HELP = `a runtime adapter's name, or "${AUTO}" to ask every available one`;

/** Commander's accumulator for a repeatable option (-e K=V -e K2=V2). */
export const collect = (value: string, previous: string[]): string[] => [...previous, value];

/**
 * Waits for a program run inside a container, passing our SIGINT/SIGTERM/SIGHUP to it (through
 * the helper) meanwhile, and returns the exit status a shell would give: its code, or 128+signal.
 */
export async function waitForExit(p: ExecProcess): Promise<{ exitCode: number; signal: NodeJS.Signals | null }> {
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
  const forward = (sig: NodeJS.Signals) => p.child.kill(sig);
  for (const s of sigs) process.on(s, forward);
  try {
    const { code, signal } = await p.exited;
    return { exitCode: code ?? 128 + (signal ? osConstants.signals[signal] : 0), signal };
  } finally {
    for (const s of sigs) process.off(s, forward);
  }
}

export interface GlobalOptions {
  json: boolean;
  plugins: string[];
  namespace?: string;
  lxcpath?: string;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** The environment the adapters read, with what the global options override. */
function engineEnv(g: GlobalOptions): Record<string, string | undefined> {
  const env: Record<string, string | undefined> = { ...process.env };
  if (g.namespace) env.CONTAINERD_NAMESPACE = g.namespace;
  if (g.lxcpath) env.SCOPE_ENGINE_LXCPATH = g.lxcpath;
  return env;
}

/**
 * While a command runs, Ctrl-C and SIGTERM first undo what is half-made (core/interrupt.ts), then
 * end the CLI as the signal would have; a command that passes them on to a program (exec, run in
 * the foreground) is left to do so when nothing is half-made.
 */
let interrupted = false;

function onInterrupt(sig: NodeJS.Signals): void {
  const status = 128 + osConstants.signals[sig];
  if (hasPendingUndo()) {
    interrupted = true; // what fails from here on is the interruption's doing, not an error to report
    void undoAll().finally(() => process.exit(status));
    return;
  }
  if (process.listenerCount(sig) > 1) return;
  process.exit(status);
}

export async function withEngine(cmd: Command, body: (engine: Engine, g: GlobalOptions) => Promise<void>): Promise<void> {
  const g = globalOptions(cmd);
  let engine: Engine | undefined;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of sigs) process.on(s, onInterrupt);
  try {
    engine = await createEngine({ plugins: g.plugins, env: engineEnv(g) });
    await body(engine, g);
  } catch (err) {
    if (!interrupted) process.exitCode = reportError(toScopeError(err), g);
  } finally {
    for (const s of sigs) process.off(s, onInterrupt);
    await engine?.close();
  }
}
