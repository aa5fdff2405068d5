/**
 * The engine's log, on stderr: warnings and errors by default, more with SCOPE_ENGINE_LOG=info|debug|trace.
 * Plugins' logs arrive here too, under their name.
 */
export type Level = 'trace' | 'debug' | 'info' | 'warn' | 'error';
const ORDER: Level[] = ['trace', 'debug', 'info', 'warn', 'error'];

function threshold(): number {
  const wanted = (process.env.SCOPE_ENGINE_LOG ?? 'warn').toLowerCase() as Level;
  return Math.max(0, ORDER.indexOf(ORDER.includes(wanted) ? wanted : 'warn'));
}

export function log(level: Level, source: string, message: string, fields: Record<string, unknown> = {}): void {
  if (ORDER.indexOf(level) < threshold()) return;
  const extra = Object.entries(fields)
    .map(([k, v]) => ` ${k}=${typeof v === 'string' ? v : JSON.stringify(v)}`).join('');
  process.stderr.write(`scope-engine[${source}] ${level.toUpperCase()} ${message}${extra}\n`);
}
