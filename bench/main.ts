/**
 * scope-engine against the runtimes' own tools, every comparison in one interleaved run:
 *   npm run build && npm run bench -- [--runs N] [--only PATTERN] [--out FILE] [--list]
 * Prints a table of medians and ratios and writes the same as JSON (default bench/results.json,
 * not committed). A comparison whose runtime is not here is skipped, saying why.
 */
import 'reflect-metadata';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { cliComparisons } from './cases-cli';
import { installComparison } from './cases-install';
import { Engines, libraryComparisons } from './cases-library';
import { runAll, type Comparison } from './harness';
import { machine, printReport, toRow } from './report';

const USAGE = `usage: npm run bench -- [--runs N] [--only PATTERN] [--out FILE] [--list]
  --runs N        counted rounds, after one warm-up round (default 21)
  --only PATTERN  only the comparisons whose id or title matches (a case-insensitive regular expression)
  --out FILE      where the JSON goes (default bench/results.json)
  --list          print the comparisons' ids and titles, run nothing`;

function selected(all: Comparison[], only: string | undefined): Comparison[] {
  if (only === undefined) return all;
  let match: (s: string) => boolean;
  try {
    const re = new RegExp(only, 'i');
    match = (s) => re.test(s);
  } catch {
    match = (s) => s.toLowerCase().includes(only.toLowerCase());
  }
  return all.filter((c) => match(`${c.id} ${c.title}`));
}

async function main(): Promise<number> {
  const { values } = parseArgs({ options: {
    runs: { type: 'string', default: '21' }, only: { type: 'string' }, help: { type: 'boolean' },
    out: { type: 'string', default: join(__dirname, '..', '..', 'bench', 'results.json') }, list: { type: 'boolean' },
  } });
  const runs = Number(values.runs);
  if (values.help || !Number.isInteger(runs) || runs < 1) {
    console.error(USAGE);
    return values.help ? 0 : 2;
  }
  const engines = new Engines();
  // The titles' numbers are the issue's; the rounds take the comparisons in that order.
  const all = [...cliComparisons(), installComparison(), ...libraryComparisons(engines)]
    .sort((a, b) => parseInt(a.title, 10) - parseInt(b.title, 10));
  const chosen = selected(all, values.only);
  if (values.list || !chosen.length) {
    for (const c of chosen.length ? chosen : all) console.log(`${c.id.padEnd(18)} ${c.title}`);
    if (!chosen.length) console.error(`bench: nothing matches --only ${values.only}`);
    return chosen.length ? 0 : 2;
  }
  const m = machine();
  let interrupted = false;
  // Ctrl-C ends the run after the sample under way, still cleaning up; a second one is Node's own.
  process.once('SIGINT', () => {
    interrupted = true;
    process.stderr.write('\nbench: stopping after this sample (Ctrl-C again to leave at once)\n');
  });
  let outcomes;
  try {
    outcomes = await runAll(chosen, {
      runs, stopped: () => interrupted, progress: (line) => process.stderr.write(`bench: ${line}\n`),
    });
  } finally {
    await engines.close();
  }
  const rows = outcomes.map(toRow);
  printReport(m, runs, rows, (line) => console.log(line));
  const out = resolve(values.out!);
  writeFileSync(out, `${JSON.stringify({ machine: m, runs, warmUpRounds: 1, only: values.only ?? null,
    interrupted, comparisons: rows }, null, 2)}\n`);
  console.log(`\nJSON: ${out}${interrupted ? ' (interrupted: fewer rounds than asked)' : ''}`);
  return 0;
}

main().then((code) => {
  process.exitCode = code;
}, (err) => {
  console.error(err);
  process.exitCode = 1;
});
