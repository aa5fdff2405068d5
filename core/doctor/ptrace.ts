/**
 * Could a payload started in the container ptrace its target, or read its memory with
 * process_vm_readv? A payload gets what the runtime's own exec would give it: the target's user,
 * capabilities and seccomp filters, in its namespaces. So the answer is the kernel's, replayed:
 *   1. the seccomp filter sees the call first (the target's filters, evaluated by the exec helper);
 *      an EPERM from it is the profile's, whatever the capabilities (Julia Evans, "Why strace
 *      doesn't work in Docker": docker's default profile lets a container ptrace, on kernels 4.8+, but
 *      allows process_vm_readv, process_vm_writev and kcmp only when it has CAP_SYS_PTRACE);
 *   2. Yama's ptrace_scope (1: only an ancestor, which a payload is not; 2: CAP_SYS_PTRACE; 3: nobody);
 *   3. ptrace's access check (__ptrace_may_access): the same real IDs as every ID of the target, and a
 *      dumpable target, or else CAP_SYS_PTRACE; the capability check passes, the sets being the same;
 *   4. for ptrace alone, a target already traced cannot be attached again.
 * An LSM (AppArmor, SELinux) may refuse too: reported, not replayed.
 */
import { constants } from 'node:os';
import { hasCapability } from '../../base/capabilities';
import type { TargetFacts } from './facts';

export type Status = 'ok' | 'warn' | 'fail';

/** One finding of the doctor: a stable id, ok/warn/fail, what was found and what would change it. */
export interface Check {
  id: string;
  status: Status;
  summary: string;
  fix: string | null;
}

export type TracedCall = 'ptrace' | 'process_vm_readv';

const ADD_PTRACE = 'give the container CAP_SYS_PTRACE (docker/podman run --cap-add SYS_PTRACE; Kubernetes ' +
  'securityContext.capabilities.add: ["SYS_PTRACE"])';

/** "errno:1" as "EPERM"; other actions as they are. */
export function actionName(action: string): string {
  const m = /^errno:(\d+)$/.exec(action);
  if (!m) return action;
  const name = Object.entries(constants.errno).find(([, n]) => n === Number(m[1]))?.[0];
  return name ?? `errno ${m[1]}`;
}

/**
 * The verdict on `call` for a payload started in the target's container. `action` is what the
 * target's seccomp filters answer to it (undefined when they could not be read).
 */
export function traceVerdict(t: TargetFacts, call: TracedCall, action: string | undefined): Check {
  const id = call;
  const fail = (summary: string, fix: string | null): Check => ({ id, status: 'fail', summary, fix });
  // The payload's effective set is the target's (exec gives it the target's capabilities).
  const hasPtrace = hasCapability(t.status.CapEff, 'SYS_PTRACE');
  if (t.sandbox) {
    return fail(`no payload can be started in it: it runs in ${t.sandbox.kind}, where ${call} is the sandbox's ` +
      'kernel\'s to answer, not the host\'s', 'use the runtime\'s own exec, which reaches into the sandbox');
  }
  if (action === undefined) {
    return { id, status: 'warn', summary: `unknown: the target's seccomp filters could not be read (see check seccomp)`,
      fix: null };
  }
  if (action !== 'allow' && action !== 'log') {
    const effect = action.startsWith('errno:') ? `answers ${call} with ${actionName(action)}` : `ends in ${action}`;
    return fail(`blocked by seccomp: the container's filter ${effect} before any capability is looked at` +
      (hasPtrace ? '' : '; docker\'s default profile allows process_vm_readv, process_vm_writev and kcmp (and ' +
        'ptrace before kernel 4.8) only to a container with CAP_SYS_PTRACE'),
      `${hasPtrace ? '' : `${ADD_PTRACE}, which also adds ${call} to docker's default profile; or `}` +
      `run it with a seccomp profile that allows ${call} (--security-opt seccomp=PROFILE.json; Kubernetes ` +
      'securityContext.seccompProfile)');
  }
  const needs: string[] = [];
  const scope = t.yamaPtraceScope;
  if (scope === 3) {
    return fail('Yama\'s ptrace_scope is 3: no process may attach, whatever its capabilities',
      'a host with kernel.yama.ptrace_scope=3 keeps it until reboot; set 0 or 1 at boot');
  }
  if (scope === 1) needs.push('Yama\'s ptrace_scope 1 lets only an ancestor attach, and a payload is not one');
  if (scope === 2) needs.push('Yama\'s ptrace_scope 2 lets only CAP_SYS_PTRACE attach');
  const [uid, gid] = [t.status.Uid, t.status.Gid];
  if (new Set(uid).size > 1 || new Set(gid).size > 1) {
    needs.push(`the target's IDs differ among themselves (uid ${uid.join('/')}, gid ${gid.join('/')}), so a payload ` +
      'with its real IDs does not match all of them');
  }
  if (t.dumpable === false) needs.push('the target is not dumpable');
  if (needs.length && !hasPtrace) {
    return fail(`refused by the kernel: ${needs.join('; ')}, and the payload would not hold CAP_SYS_PTRACE`,
      scope === 1 || scope === 2 ? `${ADD_PTRACE}, or set kernel.yama.ptrace_scope=0 on the host` : ADD_PTRACE);
  }
  if (call === 'ptrace' && t.status.TracerPid) {
    return fail(`PID ${t.pid} is already traced by PID ${t.status.TracerPid}, and a process has one tracer at most`,
      `end or detach the tracer (PID ${t.status.TracerPid})`);
  }
  const why = [
    `the filter ${action === 'log' ? 'logs and allows' : 'allows'} it`,
    needs.length ? `the payload holds CAP_SYS_PTRACE (${needs.join('; ')})`
      : 'the payload runs as the target\'s user with its capabilities',
    scope === null ? 'no Yama' : `Yama ptrace_scope ${scope}`,
  ];
  const lsm = t.lsm.label && !/^unconfined/.test(t.lsm.label) ? t.lsm.label : undefined;
  if (lsm) {
    return { id, status: 'warn', summary: `allowed as far as seccomp and capabilities go (${why.join(', ')}); the ` +
      `LSM label ${lsm} may still refuse it, which the doctor does not evaluate`,
    fix: 'check the profile\'s ptrace rules (AppArmor: ptrace (trace, read) peer=...)' };
  }
  return { id, status: 'ok', summary: `allowed: ${why.join(', ')}`, fix: null };
}
