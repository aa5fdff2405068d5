/**
 * What the exec helper's failures mean to a user: its stage and errno become a ScopeError with a
 * stable code, and where the kernel's EPERM comes from a capability the engine lacks (a root
 * engine in a container, say), the message names that capability instead of "run as root".
 */
import { lackingClause, type Capability } from '../base/capabilities';
import { ScopeError, type ErrorCode } from '../base/errors';
import type { ExecOptions } from './exec';

/** One JSON line of the helper's report pipe (native/src/exec-args.c report()). */
export interface HelperEvent {
  event: 'started' | 'checked' | 'error';
  stage: string;
  errno: number;
  code: string;
  value: number;
  detail: string;
}

/** Stages of the helper where taking the target's confinement failed (see native/src/confine-*.c). */
const CONFINEMENT_STAGES = new Set([
  'status', 'limits', 'cgroup', 'oom_score_adj', 'seccomp', 'lsm', 'rlimit', 'no_new_privs', 'capabilities',
]);

/** The capabilities the kernel asks of the engine at each stage of entering (setns(2), proc(5), setuid(2)). */
const STAGE_NEEDS: Record<string, Capability[]> = {
  'setns': ['SYS_ADMIN', 'SYS_CHROOT'],
  'open target root': ['SYS_PTRACE'],
  'setgroups': ['SETGID'],
  'setgid': ['SETGID'],
  'setuid': ['SETUID'],
  'capabilities': ['SETPCAP'],
  'seccomp': ['SYS_ADMIN', 'SYS_PTRACE'],
  'cgroup': ['DAC_OVERRIDE'],
};

/**
 * Why copying a piece of confinement is refused, and what the engine needs for it: an engine in a
 * container (a node agent) meets these when it has less than its targets.
 */
const REFUSED_HINTS: Record<string, string> = {
  capabilities: 'the engine hands on only capabilities it has, and needs CAP_SETPCAP to drop the others: ' +
    'give it every capability its targets have (see the README\'s node agent), or --privileged runs without them',
  rlimit: 'the target\'s limit is above the engine\'s own hard limit, which only CAP_SYS_RESOURCE may raise: ' +
    'give the engine limits no lower than its targets\' (docker run --ulimit nproc=$(ulimit -Hu) ...)',
  seccomp: 'the kernel shows a process\'s seccomp filters only to a tracer with CAP_SYS_ADMIN and CAP_SYS_PTRACE ' +
    'that has no filter of its own: run the engine unconfined by seccomp (--security-opt seccomp=unconfined) ' +
    'for a runtime that keeps no OCI spec to read the profile from (LXD), or --privileged runs without it',
  default: `copying it needs CAP_SYS_ADMIN and CAP_SYS_PTRACE${process.getuid?.() === 0
    ? ' and no seccomp filter of the engine\'s own' : ' (run as root)'}, or --privileged runs without it`,
};

export function helperError(ev: HelperEvent | undefined, opts: Pick<ExecOptions, 'argv' | 'hostBinary'>): ScopeError {
  if (!ev) return new ScopeError('E_NAMESPACE', 'the exec helper ended without starting the program');
  const what = `${ev.stage}: ${ev.detail ? `${ev.detail}: ` : ''}${ev.code || 'error'}`;
  const details = { stage: ev.stage, errno: ev.code, detail: ev.detail };
  if (ev.stage === 'paused') {
    return new ScopeError('E_NOT_RUNNING',
      `the container is paused (its cgroup ${ev.detail} is frozen); unpause it first`, { details });
  }
  if (CONFINEMENT_STAGES.has(ev.stage)) {
    const refused = ev.code === 'EPERM' || ev.code === 'EACCES';
    const lacking = refused ? lackingClause(STAGE_NEEDS[ev.stage] ?? []) : '';
    return new ScopeError('E_CONFINEMENT', `cannot give the program the target's confinement: ${what}` +
      (ev.stage === 'seccomp' && ev.code === 'EBUSY' ? '; stop the tracer first' : '') +
      (lacking ? `; ${lacking}` : '') + (refused ? `; ${REFUSED_HINTS[ev.stage] ?? REFUSED_HINTS.default}` : ''),
    { details });
  }
  if (ev.stage === 'exec' || ev.stage === 'open host binary') {
    const code: ErrorCode = ev.code === 'ENOENT' ? 'E_EXEC_NOT_FOUND' : 'E_EXEC_DENIED';
    const where = opts.hostBinary ? 'on the host' : 'inside the container';
    return new ScopeError(code, `cannot run ${opts.argv[0]} ${where} (${what})` +
      (code === 'E_EXEC_NOT_FOUND' && !opts.hostBinary
        ? '; a container without it can run a host binary with --host-binary' : ''),
    { details });
  }
  if (ev.stage === 'target') return new ScopeError('E_TARGET_GONE',
    `the target process exited before the program could start (${what})`);
  const refused = ev.code === 'EPERM' || ev.code === 'EACCES';
  const lacking = refused ? lackingClause(STAGE_NEEDS[ev.stage] ?? []) : '';
  return new ScopeError(refused ? 'E_PERMISSION' : 'E_NAMESPACE',
    `entering the container failed at ${what}${lacking ? `: ${lacking}` : ''}`, { details });
}
