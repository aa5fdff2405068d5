/** How the CLI prints: aligned tables for people, JSON for scripts (--json), errors with their code. */
import { forTerminal } from '../base/text';
import { ScopeError } from '../base/errors';

export interface Output {
  json: boolean;
}

/** Prints rows under a header, each column as wide as its widest cell, like `docker ps`. */
export function printTable(header: string[], rows: string[][]): void {
  // Names and reasons come from runtimes and containers: never an escape sequence to the terminal.
  rows = rows.map((r) => r.map((cell) => forTerminal(cell)));
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]) => cells.map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i])))
    .join('   ').trimEnd();
  process.stdout.write([line(header), ...rows.map(line)].join('\n') + '\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(JSON.stringify(value, null, 2) + '\n');
}

/**
 * Reports a failure and returns the exit status. With --json the error is a JSON object on stdout,
 * where a script already reads; otherwise one line on stderr, "scope-engine: E_CODE: message".
 */
export function reportError(err: ScopeError, out: Output): number {
  if (out.json) printJson({ error: err.toJSON() });
  // A message may quote names from inside a container: never an escape sequence to the terminal.
  else process.stderr.write(`scope-engine: ${err.code}: ${forTerminal(err.message)}\n`);
  return err.exitCode;
}
