/** `scope-engine doctor`: the engine's and a container's facts, and checks that say what fails and why. */
import type { Command } from 'commander';
import { forTerminal } from '../base/text';
import { AUTO } from '../core/engine';
import type { Check, DoctorReport } from '../core/index';
import { flows } from './flows';
import { RUNTIME_HELP, withEngine } from './context';
import { printJson } from './output';

const MARK: Record<Check['status'], string> = { ok: 'ok  ', warn: 'WARN', fail: 'FAIL' };

export function addDoctorCommand(program: Command): void {
  program
    .command('doctor')
    .description('say what this engine can do here and, given a container, whether entering it and tracing ' +
      'its process would work, and why not')
    .argument('[container]', 'a name, a full ID or an unambiguous ID prefix')
    .option('-r, --runtime <name>', RUNTIME_HELP, AUTO)
    .option('--try', 'also start a small probe in the container that really tries ptrace and process_vm_readv')
    .addHelpText('after', `
Without a container: the engine's user, capabilities, seccomp mode, PID namespace and host root,
and each runtime's endpoint. With one: its namespaces, capabilities (as /proc/PID/status shows
them), seccomp mode and filters, NoNewPrivs, TracerPid, LSM label, Yama's ptrace_scope, ID maps and
cgroups; whether it is sandboxed (gVisor, Kata); a dry run of entering it (nothing is started); and
whether a payload started there could ptrace the target or read its memory, and what would change it.
--try starts a probe inside, confined as exec confines anything, to compare with what really happens.

Check ids (stable, for --json): pid-namespace, host-root, runtime, capabilities, target, sandbox,
namespaces, confinement, seccomp, ptrace, process_vm_readv. Exit status 0 when no check failed, 1 when
one did.

Examples:
  scope-engine doctor
  scope-engine doctor --runtime docker web
  scope-engine doctor web --try --json | jq '.checks[] | select(.status != "ok")'`)
    .action(async (ref: string | undefined, opts: { runtime: string; try?: boolean }, cmd: Command) =>
      withEngine(cmd, async (engine, g) => {
        const report = await flows().runDoctor(engine, { ref, runtime: opts.runtime, trial: opts.try });
        if (g.json) printJson(report);
        else process.stdout.write(format(report));
        if (report.checks.some((c) => c.status === 'fail')) process.exitCode = 1;
      }));
}

function format(r: DoctorReport): string {
  const e = r.engine;
  const lines = [
    `engine: ${e.user} (UID ${e.euid}), CapEff ${e.status.CapEff}, seccomp ${e.status.Seccomp}, ` +
      `${e.hostPidNamespace ? 'host' : 'own'} PID namespace, ` +
      `host root ${e.hostRoot.visible ? e.hostRoot.dir : 'not visible'}`,
  ];
  const t = r.target;
  if (t) {
    const s = t.status;
    lines.push(
      `target: ${t.runtime} container ${t.name}, host PID ${t.pid} (PID ${t.nsPid} inside), uid ${s.Uid.join(' ')}`,
      `  CapEff ${s.CapEff} ${s.names.CapEff.join(',') || '-'}`,
      `  CapBnd ${s.CapBnd} ${s.names.CapBnd.join(',') || '-'}`,
      `  Seccomp ${s.Seccomp}, Seccomp_filters ${s.Seccomp_filters ?? '-'}, NoNewPrivs ${s.NoNewPrivs}, ` +
        `TracerPid ${s.TracerPid}`,
      `  LSM ${t.lsm.label ?? 'none'} (${t.lsm.modules.join(',') || 'no LSM'}), Yama ptrace_scope ` +
        `${t.yamaPtraceScope ?? 'none'}`,
      `  uid_map ${t.uidMap.split('\n').map((l) => l.trim().split(/\s+/).join(':')).join(' ')}`,
      `  cgroup ${t.cgroup.find((l) => /:memory:|^0::/.test(l)) ?? t.cgroup[0]}`,
    );
  }
  lines.push('');
  const width = Math.max(...r.checks.map((c) => c.id.length));
  for (const c of r.checks) {
    lines.push(`[${MARK[c.status]}] ${c.id.padEnd(width)}  ${c.summary}`);
    if (c.fix && c.status !== 'ok') lines.push(`       ${' '.repeat(width)}  fix: ${c.fix}`);
  }
  return forTerminal(lines.join('\n')) + '\n';
}
