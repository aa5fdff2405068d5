/** Timing helpers shared by the benchmarks: run N times, report the median, compare as ratios. */
import { execFileSync } from 'node:child_process';
import { performance } from 'node:perf_hooks';

export interface Timing {
  name: string;
  medianMs: number;
  runs: number;
}

/**
 * Median wall time of `fn` over `runs` runs after one warm-up. With `selfTimed`, `fn` returns the
 * milliseconds of its timed part itself (so that untimed set-up between runs is left out).
 */
export async function time(name: string, runs: number, fn: () => unknown | Promise<unknown>,
  selfTimed = false): Promise<Timing> {
  await fn(); // warm-up: page cache, lazy loads
  const samples: number[] = [];
  for (let i = 0; i < runs; i++) {
    const start = performance.now();
    const own = await fn();
    samples.push(selfTimed ? Number(own) : performance.now() - start);
  }
  samples.sort((a, b) => a - b);
  return { name, medianMs: samples[Math.floor(samples.length / 2)], runs };
}

export interface Case {
  name: string;
  fn: () => unknown | Promise<unknown>;
}

/**
 * Median wall time of each case over `runs` rounds, the cases taking turns within a round
 * (A B C A B C ...), so that a machine whose speed drifts slows every case alike.
 */
export async function interleave(cases: Case[], runs: number): Promise<Timing[]> {
  for (const c of cases) await c.fn(); // warm-up: page cache, lazy loads
  const samples = cases.map(() => [] as number[]);
  for (let i = 0; i < runs; i++) {
    for (const [k, c] of cases.entries()) {
      const start = performance.now();
      await c.fn();
      samples[k].push(performance.now() - start);
    }
  }
  return cases.map((c, k) => {
    const sorted = samples[k].sort((a, b) => a - b);
    return { name: c.name, medianMs: sorted[Math.floor(sorted.length / 2)], runs };
  });
}

/** Runs a command to completion; a non-zero exit fails the benchmark rather than timing an error. */
export function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): void {
  execFileSync(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'], env });
}

export function printTable(results: Timing[], baselines: string[]): void {
  const header = ['what', 'median ms', ...baselines.map((b) => `x ${b}`)];
  const rows = results.map((r) => [r.name, r.medianMs.toFixed(2), ...baselines.map((b) => {
    const base = results.find((x) => x.name === b)!;
    return (r.medianMs / base.medianMs).toFixed(2);
  })]);
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i].length)));
  for (const row of [header, ...rows]) console.log(row.map((c, i) => c.padEnd(widths[i])).join('  '));
}
