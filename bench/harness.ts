/**
 * The one run every comparison shares: each comparison is prepared (or skipped, saying why), then
 * a warm-up round that is not counted, then rounds in which every side of every comparison takes
 * its turn (A B C ... A B C), so that a machine whose load drifts weighs on every case alike.
 * Only the operation is timed, on the monotonic clock; set-up and clean-up run outside the timer.
 */
import { performance } from 'node:perf_hooks';
import { Skip } from './spawn';

/** What a comparison is held to. */
export type Goal =
  | { kind: 'ratio'; max: number }
  | { kind: 'absolute'; max: number }
  | { kind: 'difference'; max: number }
  | { kind: 'report' };

/** One side of a comparison: a timed operation, or a sampler of something else (memory). */
export interface Side {
  /** The command or call, as printed under the table. */
  label: string;
  /** Untimed, before each sample. */
  before?(): Promise<void>;
  /** What is timed. */
  op?(): Promise<void>;
  /** Untimed, after each sample, a failed one too. */
  after?(): Promise<void>;
  /** Instead of op: returns the sample itself, in the comparison's unit. */
  sample?(): Promise<number>;
}

export interface Prepared {
  ours: Side;
  peer: Side;
  /** Said under the table: what the peer covers, what differs between the sides. */
  note?: string;
  /** Untimed, once after the last round. */
  teardown?(): Promise<void>;
}

export interface Comparison {
  /** Short and stable: what --only matches (with the title) and the JSON's key. */
  id: string;
  title: string;
  unit: 'ms' | 'MiB';
  goal: Goal;
  /** Checks that the runtime is there and sets up; throws Skip to leave the comparison out. */
  prepare(): Promise<Prepared>;
}

export interface Outcome {
  comparison: Comparison;
  status: 'measured' | 'skipped' | 'failed';
  /** Why it was skipped or failed. */
  reason?: string;
  prepared?: Prepared;
  ours: number[];
  peer: number[];
}

async function measure(side: Side): Promise<number> {
  if (side.sample) return side.sample();
  await side.before?.();
  try {
    const start = performance.now();
    await side.op!();
    return performance.now() - start;
  } finally {
    await side.after?.();
  }
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

export interface RunOptions {
  runs: number;
  /** Checked between samples: true ends the run early (Ctrl-C), still tearing down. */
  stopped(): boolean;
  progress(line: string): void;
}

/** Prepares, runs and tears down every comparison; a failing one is dropped from later rounds, not fatal. */
export async function runAll(comparisons: Comparison[], opts: RunOptions): Promise<Outcome[]> {
  const outcomes: Outcome[] = [];
  for (const comparison of comparisons) {
    const o: Outcome = { comparison, status: 'measured', ours: [], peer: [] };
    outcomes.push(o);
    try {
      opts.progress(`preparing ${comparison.id}`);
      o.prepared = await comparison.prepare();
    } catch (err) {
      Object.assign(o, { status: err instanceof Skip ? 'skipped' : 'failed', reason: message(err) });
    }
  }
  const started = performance.now();
  try {
    for (let round = 0; round <= opts.runs && !opts.stopped(); round++) {
      opts.progress(round === 0 ? 'warm-up round' : `round ${round}/${opts.runs} ` +
        `(${((performance.now() - started) / 1000).toFixed(0)} s so far)`);
      for (const o of outcomes) {
        if (o.status !== 'measured' || opts.stopped()) continue;
        for (const which of ['ours', 'peer'] as const) {
          const side = o.prepared![which];
          try {
            const value = await measure(side);
            if (round > 0) o[which].push(value);
          } catch (err) {
            Object.assign(o, { status: 'failed', reason: `${round === 0 ? 'warm-up' : `round ${round}`}: ` +
              `${side.label}: ${message(err)}` });
            break;
          }
        }
        // A round counts for a comparison only when both sides made it.
        o.ours.length = o.peer.length = Math.min(o.ours.length, o.peer.length);
      }
    }
  } finally {
    for (const o of outcomes) {
      await o.prepared?.teardown?.().catch((err) => opts.progress(`teardown of ${o.comparison.id}: ${message(err)}`));
    }
  }
  return outcomes;
}
