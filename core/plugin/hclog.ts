/**
 * A plugin's stderr line as go-plugin's host reads it: hclog JSON (`@level`, `@message`, other keys
 * as fields) or plain text, whose `[INFO]`-style prefix sets the level; after a `panic: ` or
 * `fatal error: ` line everything is an error (a Go stack trace).
 */
import type { Level } from '../../base/log';

export interface LogLine {
  level: Level;
  message: string;
  fields: Record<string, unknown>;
}

const LEVELS: Level[] = ['trace', 'debug', 'info', 'warn', 'error'];

export class HclogReader {
  private panicking = false;

  parse(line: string): LogLine {
    if (line.startsWith('{')) {
      try {
        const {
          '@level': level, '@message': message, '@timestamp': _ts, '@module': _module, ...fields
        } = JSON.parse(line);
        return { level: LEVELS.includes(level) ? level : 'debug', message: String(message ?? ''), fields };
      } catch {
        // not JSON after all: a plain line
      }
    }
    if (/^(panic: |fatal error: )/.test(line)) this.panicking = true;
    if (this.panicking) return { level: 'error', message: line, fields: {} };
    const m = /^\[(TRACE|DEBUG|INFO|WARN|ERROR)\]\s*(.*)$/.exec(line);
    if (m) return { level: m[1].toLowerCase() as Level, message: m[2], fields: {} };
    return { level: 'debug', message: line, fields: {} };
  }
}
