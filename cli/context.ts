/** Running one CLI command: build the engine from the global options, run, close, map errors to exit codes. */
import { constants as osConstants } from 'node:os';
import type { Command } from 'commander';
import { toScopeError } from '../base/errors';
import { createEngine } from '../core/create';
import { AUTO, type Engine } from '../core/engine';
import { builtinRegistry } from '../core/registry';
import type { ExecProcess } from '../core/flows/index';
import { hasPendingUndo, undoAll } from '../core/interrupt';
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
  /** --host-root. */
  hostRoot?: string;
  /** The built-ins' own flags (--namespace, --lxcpath), by option name. */
  [option: string]: unknown;
}

export function globalOptions(cmd: Command): GlobalOptions {
  return cmd.optsWithGlobals() as GlobalOptions;
}

/** The values of the flags the built-ins declare (program.ts adds them), for createEngine's `options`. */
function adapterFlags(g: GlobalOptions): Record<string, unknown> {
  const set = builtinRegistry.flags().filter((o) => g[o.name] !== undefined);
  return Object.fromEntries(set.map((o) => [o.name, g[o.name]]));
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

export async function withEngine(cmd: Command,
  body: (engine: Engine, g: GlobalOptions) => Promise<void>): Promise<void> {
  const g = globalOptions(cmd);
  let engine: Engine | undefined;
  const sigs: NodeJS.Signals[] = ['SIGINT', 'SIGTERM'];
  for (const s of sigs) process.on(s, onInterrupt);
  try {
    engine = await createEngine({ plugins: g.plugins, options: adapterFlags(g), hostRoot: g.hostRoot });
    await body(engine, g);
  } catch (err) {
    if (!interrupted) process.exitCode = reportError(toScopeError(err), g);
  } finally {
    for (const s of sigs) process.off(s, onInterrupt);
    await engine?.close();
  }
}
