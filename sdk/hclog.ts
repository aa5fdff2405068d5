/** Logging for plugin programs: hclog JSON lines on stderr, which go-plugin hosts (and scope-engine) read. */
export type HclogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error';

/** hclog's timestamp layout, 2006-01-02T15:04:05.000000Z07:00, in UTC. */
function timestamp(d = new Date()): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

export function hclog(level: HclogLevel, message: string, fields: Record<string, unknown> = {}): void {
  process.stderr.write(JSON.stringify({
    '@level': level, '@message': message, '@timestamp': timestamp(), ...fields,
  }) + '\n');
}
