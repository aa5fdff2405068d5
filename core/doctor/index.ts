/**
 * `scope-engine doctor`: why something can or cannot be done, before and after it fails. It reads
 * the engine and, given a container, its target; the exec helper's dry run (--check) enters the
 * namespaces and reads the confinement exactly as exec would, without starting anything. Only with
 * `trial` is a program started inside: a static probe that really tries ptrace and process_vm_readv.
 */
import { toScopeError } from '../../base/errors';
import { checkInTarget, execInTarget, type EntryCheck } from '../../native/exec';
import { traceProbePath } from '../../native/index';
import { sandboxOf } from '../../native/sandbox';
import { Target } from '../../native/target';
import { AUTO, type Engine, type RuntimeStatus } from '../engine';
import {
  capabilitiesCheck, confinementCheck, hostRootCheck, namespacesCheck, pidNamespaceCheck, runtimeCheck,
  sandboxCheck, seccompCheck, targetCheck, targetFailed,
} from './checks';
import { engineFacts, targetFacts, type EngineFacts, type TargetFacts } from './facts';
import { traceVerdict, type Check, type TracedCall } from './ptrace';

export type { Check, Status, TracedCall } from './ptrace';
export type { EngineFacts, TargetFacts } from './facts';

/** What the probe got for each call: ok, or the errno it failed with. */
export type Trial = Record<TracedCall, { ok: boolean; errno: string }>;

export interface DoctorReport {
  engine: EngineFacts & { runtimes: RuntimeStatus[] };
  /** Null without a container, or when it could not be resolved and pinned (see the target check). */
  target: (TargetFacts & { entry: EntryCheck | null; trial: Trial | null }) | null;
  checks: Check[];
}

export interface DoctorOptions {
  /** A container to examine. */
  ref?: string;
  runtime?: string;
  /** Start the probe inside and say what it really got. */
  trial?: boolean;
}

export async function runDoctor(engine: Engine, opts: DoctorOptions = {}): Promise<DoctorReport> {
  const selector = opts.runtime ?? AUTO;
  const facts = engineFacts(engine.hostRoot);
  const runtimes = await engine.status();
  const checks = [pidNamespaceCheck(facts), hostRootCheck(facts), runtimeCheck(runtimes, selector)];
  const report: DoctorReport = { engine: { ...facts, runtimes }, target: null, checks };
  if (!opts.ref) {
    checks.push(capabilitiesCheck(facts));
    return report;
  }
  if (!facts.hostPidNamespace) {
    checks.push(capabilitiesCheck(facts), { id: 'target', status: 'fail',
      summary: 'not looked at: in the engine\'s PID namespace the runtime\'s PID would name another process',
      fix: 'see check pid-namespace' });
    return report;
  }
  let target: Target | undefined;
  try {
    const c = await engine.resolve(selector, opts.ref);
    target = Target.open(c.pid, { spec: c.spec });
    const t = targetFacts(target, c, sandboxOf(c.pid, engine.hostRoot));
    const entry = t.sandbox ? undefined : await checkInTarget(target).catch((err) => toScopeError(err));
    const good = entry && !('code' in entry) ? entry : undefined;
    const trial = opts.trial && !t.sandbox ? await tryTracing(target) : null;
    report.target = { ...t, entry: good ?? null, trial };
    checks.push(capabilitiesCheck(facts, t), targetCheck(t), sandboxCheck(t), namespacesCheck(t, entry),
      confinementCheck(t, entry), seccompCheck(facts, t, entry),
      ...(['ptrace', 'process_vm_readv'] as const).map((call) =>
        withTrial(traceVerdict(t, call, good?.syscalls[call]), trial?.[call])));
  } catch (err) {
    checks.push(capabilitiesCheck(facts), targetFailed(toScopeError(err)));
  } finally {
    target?.close();
  }
  return report;
}

/**
 * Starts the probe in the target's container, confined as exec confines anything, and returns what
 * each call really got there.
 */
export async function tryTracing(target: Target): Promise<Trial> {
  const r = await execInTarget(target, { argv: [traceProbePath(), String(target.nsPid)], hostBinary: true });
  const line = r.stdout.trim().split('\n').pop() ?? '';
  try {
    const got = JSON.parse(line) as Trial;
    return { ptrace: got.ptrace, process_vm_readv: got.process_vm_readv };
  } catch {
    throw new Error(`the probe printed ${JSON.stringify(r.stdout.slice(0, 200))} (exit ${r.code}): ${r.stderr.trim()}`);
  }
}

/** The verdict with what the probe got beside it; where they disagree, the probe is right and it is a failure. */
function withTrial(verdict: Check, got: Trial[TracedCall] | undefined): Check {
  if (!got) return verdict;
  const said = got.ok ? 'succeeded' : `failed with ${got.errno}`;
  const agrees = got.ok === (verdict.status !== 'fail');
  return agrees ? { ...verdict, summary: `${verdict.summary} (tried: ${said})` }
    : { ...verdict, status: 'fail', summary: `${verdict.summary}; but tried, it ${said}: the doctor was wrong here, ` +
      'please report it' };
}
