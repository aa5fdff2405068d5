#!/usr/bin/env node
// The composition root of the command line: the built-in adapters register as they are imported.
import 'reflect-metadata';
import '../adapters';
import { main } from './program';

// A reader that went away (`scope-engine ps | head`) ends the CLI quietly, as SIGPIPE ends other
// commands, with the status a shell gives a command it killed (128 + 13); Node ignores the signal.
for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'EPIPE') process.exit(141);
    throw err;
  });
}

main(process.argv).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`scope-engine: E_INTERNAL: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
