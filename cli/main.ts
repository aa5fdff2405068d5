#!/usr/bin/env node
// The composition root of the command line: the built-in adapters register as they are imported.
import 'reflect-metadata';
import '../adapters';
import { main } from './program';

main(process.argv).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`scope-engine: E_INTERNAL: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
