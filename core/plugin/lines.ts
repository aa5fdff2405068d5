/**
 * Lines from a plugin's stdout and stderr with a bound on their length. readline keeps an unended
 * line in memory whatever its size, so a plugin printing 50 MB without a newline would fill the
 * engine's memory, and its handshake would never be read.
 */
import type { Readable } from 'node:stream';

/** Longer than any handshake (`1|1|unix|` + a socket path of at most 108 bytes + `|grpc|`) or sane log line. */
export const MAX_LINE_BYTES = 8192;

/**
 * Calls `onLine` for each line of `input`, without its newline. A line longer than `max` bytes is
 * handed over cut at `max`, with `cut` true, and the rest of it up to the next newline is skipped.
 */
export function readLines(input: Readable, onLine: (line: string, cut: boolean) => void,
  max = MAX_LINE_BYTES): () => void {
  let pending: Buffer[] = [];
  let size = 0;
  let skipping = false;
  const onData = (chunk: Buffer) => {
    let start = 0;
    for (let nl = chunk.indexOf(10); nl !== -1; nl = chunk.indexOf(10, start)) {
      take(chunk.subarray(start, nl), true);
      start = nl + 1;
    }
    take(chunk.subarray(start), false);
  };
  const take = (part: Buffer, ended: boolean) => {
    if (!skipping) {
      const room = max - size;
      pending.push(part.subarray(0, room));
      size += Math.min(part.length, room);
      if (part.length > room) {
        skipping = true;
        onLine(flush(), true);
      } else if (ended) {
        onLine(flush(), false);
      }
    }
    if (ended) skipping = false;
  };
  const flush = () => {
    const line = Buffer.concat(pending).toString('utf8').replace(/\r$/, '');
    pending = [];
    size = 0;
    return line;
  };
  // The last line of a stream that ends without a newline (a plugin's dying words) counts too.
  const onEnd = () => {
    if (size && !skipping) onLine(flush(), false);
  };
  input.on('data', onData);
  input.on('end', onEnd);
  return () => {
    input.off('data', onData);
    input.off('end', onEnd);
  };
}
