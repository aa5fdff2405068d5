/**
 * The matrix's doctor column: for each container of the row, what `doctor` reports against what the
 * kernel shows and what a probe started inside really gets. The target's seccomp mode, NoNewPrivs
 * and capability sets must be /proc/PID/status's own; each ptrace and process_vm_readv verdict must
 * be what the probe got; a sandboxed container must be named so, and refused by exec.
 */
import { readFileSync } from 'node:fs';
import { runDoctor, tryTracing } from '../core/doctor/index';
import { execIn } from '../core/flows/exec';
import { check, expectCode, withTarget, type LabRow, type Scenario, type ScenarioContext } from './context';

/** The /proc/PID/status lines the doctor must report exactly. */
const EXACT = ['Seccomp', 'Seccomp_filters', 'NoNewPrivs', 'CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb'] as const;

/** The row's containers whose verdicts are held to the probe's: its running one, its non-root one, its doctor ones. */
export function doctorRefs(row: LabRow): string[] {
  return [row.running, ...(row.nonroot ? [row.nonroot] : []), ...(row.doctor ?? [])];
}

export const DOCTOR: Scenario = {
  id: 'doctor', title: 'doctor verdicts match the probe',
  async run(ctx) {
    for (const ref of doctorRefs(ctx.row)) await compare(ctx, ref);
    if (ctx.row.sandboxed) await sandboxed(ctx, ctx.row.sandboxed);
  },
};

async function compare(ctx: ScenarioContext, ref: string): Promise<void> {
  const report = await runDoctor(ctx.engine, { ref, runtime: ctx.row.runtime });
  const t = report.target;
  check(t, `${ref}: no target: ${report.checks.filter((c) => c.status === 'fail').map((c) => c.summary).join('; ')}`);
  const status = readFileSync(`/proc/${t.pid}/status`, 'utf8');
  for (const key of EXACT) {
    const real = new RegExp(`^${key}:\\s*(\\S+)`, 'm').exec(status)?.[1];
    check(String(t.status[key]) === real, `${ref}: doctor says ${key} ${t.status[key]}, /proc/${t.pid}/status ${real}`);
  }
  const got = await withTarget(ctx, ref, (target) => tryTracing(target));
  for (const call of ['ptrace', 'process_vm_readv'] as const) {
    const verdict = report.checks.find((c) => c.id === call);
    check(verdict, `${ref}: no ${call} check`);
    check((verdict.status !== 'fail') === got[call].ok, `${ref}: doctor says ${call} ${verdict.status} ` +
      `(${verdict.summary}), the probe ${got[call].ok ? 'succeeded' : `got ${got[call].errno}`}`);
  }
}

async function sandboxed(ctx: ScenarioContext, ref: string): Promise<void> {
  const report = await runDoctor(ctx.engine, { ref, runtime: ctx.row.runtime });
  const sandbox = report.checks.find((c) => c.id === 'sandbox');
  check(sandbox?.status === 'fail' && /gVisor|Kata/.test(sandbox.summary),
    `${ref}: the sandbox check says ${sandbox?.status}: ${sandbox?.summary}`);
  await expectCode(execIn(ctx.engine, ctx.row.runtime, ref, { argv: ['true'], stdio: 'pipe' },
    (p) => p.exited), 'E_UNSUPPORTED');
}
