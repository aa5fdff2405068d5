#!/usr/bin/env node
import 'reflect-metadata';
import { main } from './program';

main(process.argv).then((code) => {
  process.exitCode = code;
}, (err: unknown) => {
  process.stderr.write(`scope-engine: E_INTERNAL: ${(err as Error)?.stack ?? String(err)}\n`);
  process.exitCode = 1;
});
