/**
 * The doctor's checks, each from facts already read: stable ids (documented in the README), a status,
 * what was found, and what would change it. Nothing here reads the system or acts.
 */
import { capabilityNames, ENGINE_NEEDS, hasCapability, type Capability } from '../../base/capabilities';
import type { ScopeError } from '../../base/errors';
import type { EntryCheck } from '../../native/exec';
import { ALL, AUTO, type RuntimeStatus } from '../engine';
import type { EngineFacts, TargetFacts } from './facts';
import { actionName, type Check } from './ptrace';

const ok = (id: string, summary: string): Check => ({ id, status: 'ok', summary, fix: null });

export function pidNamespaceCheck(e: EngineFacts): Check {
  if (e.hostPidNamespace) return ok('pid-namespace', 'the engine is in the host\'s PID namespace');
  return { id: 'pid-namespace', status: 'fail',
    summary: 'the engine runs in a PID namespace of its own, where the PIDs runtimes report name other processes',
    fix: 'run its container with --pid=host (docker, podman) or hostPID: true (Kubernetes)' };
}

export function hostRootCheck(e: EngineFacts): Check {
  const r = e.hostRoot;
  // Root that can read no process of the host's is a container's root without CAP_SYS_PTRACE; a user
  // that cannot read root's processes on the host is just a user.
  if (!r.known && e.euid === 0) {
    return { id: 'host-root', status: 'warn', summary: 'cannot tell where the host\'s / is: no process of the ' +
      'host could be read (PID 1 and the engine\'s ancestors), so host paths are read in this /',
    fix: 'give the engine CAP_SYS_PTRACE, or name the host\'s root with --host-root (-v /:/hostfs:ro)' };
  }
  if (!r.contained) return ok('host-root', 'the engine runs on the host: its / is the host\'s');
  if (r.visible) return ok('host-root', `the engine runs in a container and reaches the host's / at ${r.dir}`);
  return { id: 'host-root', status: 'warn',
    summary: 'the engine runs in a container that has no mount of the host\'s /: runtimes\' sockets, ' +
      'specs and users\' files are looked for in its own files',
    fix: 'mount the host\'s root read-only (-v /:/hostfs:ro, or a hostPath volume) or name it with --host-root' };
}

/**
 * The engine's capabilities: those its commands need and, with a target in the engine's own user
 * namespace, those the target holds: a program started there gets them by capset(2), which cannot
 * give what the engine lacks (in a user namespace of the target's own, joining it gives them all).
 */
export function capabilitiesCheck(e: EngineFacts, t?: TargetFacts): Check {
  const id = 'capabilities';
  const own = e.status.CapEff;
  if (e.euid !== 0 && !ENGINE_NEEDS.some((n) => hasCapability(own, n.name))) {
    return { id, status: 'warn', summary: `the engine runs as ${e.user} (UID ${e.euid}) with no capability: ` +
      'it can act only in that user\'s rootless containers, whose user namespace gives it them',
    fix: 'run it as root for other containers' };
  }
  const lacking = (hex: string) => capabilityNames(hex).filter((n) => !hasCapability(own, n as Capability));
  const sameUserNs = t && !t.sandbox && !t.namespaces.user?.differs;
  const c = t?.status;
  const held = sameUserNs && c ? lacking((BigInt(`0x${c.CapPrm}`) | BigInt(`0x${c.CapInh}`) |
    BigInt(`0x${c.CapAmb}`)).toString(16)) : [];
  const bounding = sameUserNs && c ? lacking(c.CapBnd).filter((n) => !held.includes(n)) : [];
  const missing = ENGINE_NEEDS.filter((n) => !hasCapability(own, n.name));
  const who = `the engine runs as ${e.euid === 0 ? 'root' : `${e.user} (UID ${e.euid})`}`;
  const caps = (names: string[]) => names.map((n) => `CAP_${n}`).join(', ');
  const lines = missing.map((n) => `CAP_${n.name} (${n.for}: ${n.commands.join(', ')} fail without it)`);
  if (held.length) {
    lines.push(`${caps(held)}, which the target holds and a program started there must get: exec and run are ` +
      'refused with E_CONFINEMENT');
  }
  if (lines.length) {
    return { id, status: 'fail', summary: `${who} but lacks ${lines.join('; ')}`,
      fix: `give the engine ${caps([...missing.map((n) => n.name), ...held])} (in a container: --cap-add, see ` +
        'the README\'s node agent)' };
  }
  if (bounding.length) {
    return { id, status: 'warn', summary: `${who} without ${caps(bounding)} of the target's bounding set: what it ` +
      'starts there has a bounding set without them, where the runtime\'s exec would keep them',
    fix: `give the engine ${caps(bounding)} if a program must be able to regain them` };
  }
  return ok(id, `${who} with every capability it needs${t ? ' and every one the target holds' : ''}`);
}

/** Whether the runtime asked for (or, with auto and all, any) can be reached, and why not. */
export function runtimeCheck(statuses: RuntimeStatus[], selector: string): Check {
  const id = 'runtime';
  const say = (s: RuntimeStatus) => s.available
    ? `${s.name}: reachable${s.endpoint ? ` at ${s.endpoint}` : ''}${s.version ? ` (version ${s.version})` : ''}`
    : `${s.name}: ${s.reason ?? 'unavailable'}`;
  if (selector !== AUTO && selector !== ALL) {
    const s = statuses.find((x) => x.name === selector);
    if (!s) return { id, status: 'fail', summary: `no runtime adapter named ${selector}`,
      fix: `one of ${statuses.map((x) => x.name).join(', ')}` };
    return s.available ? ok(id, say(s)) : { id, status: 'fail', summary: say(s), fix: null };
  }
  const any = statuses.some((s) => s.available);
  return { id, status: any ? 'ok' : 'fail', summary: statuses.map(say).join('; '),
    fix: any ? null : 'start a runtime, or name its endpoint (see scope-engine runtimes)' };
}

const TARGET_FIXES: Record<string, string> = {
  E_NOT_FOUND: 'check the name or ID with scope-engine ps',
  E_AMBIGUOUS: 'give more of the ID, or --runtime',
  E_NOT_RUNNING: 'start the container (or unpause it)',
  E_RUNTIME_UNAVAILABLE: 'see the runtime check',
};

export function targetFailed(err: ScopeError): Check {
  return { id: 'target', status: 'fail', summary: `${err.code}: ${err.message}`, fix: TARGET_FIXES[err.code] ?? null };
}

export function targetCheck(t: TargetFacts): Check {
  return ok('target', `${t.runtime} container ${t.name}: host PID ${t.pid}, PID ${t.nsPid} in the container`);
}

export function sandboxCheck(t: TargetFacts): Check {
  if (!t.sandbox) {
    return ok('sandbox', `not sandboxed: host PID ${t.pid} runs the container's own program, not gVisor or a VM`);
  }
  return { id: 'sandbox', status: 'fail', summary: `sandboxed by ${t.sandbox.kind}: ${t.sandbox.how.join(', ')}; ` +
    'its processes are not host processes, so no namespace entry reaches them (exec, run, cp: E_UNSUPPORTED)',
  fix: 'use the runtime\'s own exec, which goes through the sandbox' };
}

/** A failure of the dry run while reading the confinement (native/exec-errors.ts gives those stages E_CONFINEMENT). */
const isConfinement = (err: ScopeError) => err.code === 'E_CONFINEMENT';

/** Whether the namespaces could be read and entered: the exec helper's dry run, or why it was not tried. */
export function namespacesCheck(t: TargetFacts, entry: EntryCheck | ScopeError | undefined): Check {
  const id = 'namespaces';
  const names = Object.entries(t.namespaces).filter(([, n]) => n.differs).map(([ns]) => ns);
  if (t.sandbox || !entry) return { id, status: 'fail', summary: 'not tried: sandboxed', fix: null };
  if (!('code' in entry)) {
    return ok(id, names.length ? `read and entered: ${names.join(', ')}`
      : 'the target shares every namespace with the engine');
  }
  if (isConfinement(entry)) {
    return { id, status: 'warn', summary: 'not tried: reading the confinement failed first (see check confinement)',
      fix: null };
  }
  return { id, status: 'fail', summary: `${entry.code}: ${entry.message}`, fix: null };
}

/** Whether what a runtime's exec gives could be read: filters, cgroups, limits, label. */
export function confinementCheck(t: TargetFacts, entry: EntryCheck | ScopeError | undefined): Check {
  const id = 'confinement';
  if (t.sandbox || !entry) return { id, status: 'fail', summary: 'not tried: sandboxed', fix: null };
  if ('code' in entry) {
    return isConfinement(entry) ? { id, status: 'fail', summary: entry.message, fix: null }
      : ok(id, 'read (entering failed afterwards: see check namespaces)');
  }
  const from = entry.source === 'live' ? 'live process' : 'runtime\'s profile';
  return ok(id, `read: capabilities, limits, ${entry.cgroups} cgroup(s) to join, seccomp ` +
    (entry.source === 'none' ? 'none' : `${entry.filters} filter(s) from the ${from}`));
}

/** The target's seccomp mode and filters, what they answer to the calls a tracer makes, and the engine's own mode. */
export function seccompCheck(e: EngineFacts, t: TargetFacts, entry: EntryCheck | ScopeError | undefined): Check {
  const id = 'seccomp';
  const s = t.status;
  const mode = ['disabled', 'strict', 'filter'][s.Seccomp] ?? String(s.Seccomp);
  let summary = `the target's seccomp mode is ${s.Seccomp} (${mode})` +
    (s.Seccomp_filters === null ? '' : `, ${s.Seccomp_filters} filter(s)`) + `, NoNewPrivs ${s.NoNewPrivs}`;
  if (entry && !('code' in entry) && s.Seccomp === 2) {
    summary += `; they answer ${Object.entries(entry.syscalls).map(([n, a]) => `${n} ${actionName(a)}`).join(', ')}`;
  }
  if (e.status.Seccomp !== 0) {
    return { id, status: 'warn', summary: `${summary}; the engine itself runs under a seccomp filter, which ` +
      'stays on what it starts, on top of the target\'s, and keeps it from reading the target\'s filters',
    fix: 'run the engine unconfined by seccomp (--security-opt seccomp=unconfined)' };
  }
  if (entry && 'code' in entry && entry.details?.stage === 'seccomp') {
    return { id, status: 'fail', summary: `${summary}; ${entry.message}`, fix: null };
  }
  return ok(id, summary);
}
