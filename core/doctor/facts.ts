/**
 * What the doctor reads, as the kernel shows it: the engine's own process and the target's
 * /proc/PID files, system settings (Yama, LSMs), and the runtimes' answers. Values stay in the
 * kernel's notation (capability masks in hex, exactly as /proc/PID/status has them), with names
 * beside them for people.
 */
import { readFileSync, statSync } from 'node:fs';
import { userInfo } from 'node:os';
import { capabilityField, capabilityNames } from '../../base/capabilities';
import type { HostRoot } from '../../native/host-root';
import { inHostPidNamespace, NAMESPACES, type Target } from '../../native/target';
import type { Sandbox } from '../../native/sandbox';

/**
 * The lines of /proc/PID/status the doctor reasons with, under the kernel's own names and as it
 * shows them: capability sets as hex masks, the rest as numbers.
 */
export interface ProcessStatus {
  /** Real, effective, saved and filesystem IDs. */
  Uid: number[];
  Gid: number[];
  CapInh: string;
  CapPrm: string;
  CapEff: string;
  CapBnd: string;
  CapAmb: string;
  NoNewPrivs: number;
  /** 0 none, 1 strict, 2 filter. */
  Seccomp: number;
  /** Kernel 5.9+, else null. */
  Seccomp_filters: number | null;
  /** The PID tracing it (0: none), as the engine's PID namespace numbers it. */
  TracerPid: number;
  /** The capabilities in the permitted, effective and bounding sets, by name, for people. */
  names: { CapPrm: string[]; CapEff: string[]; CapBnd: string[] };
}

export interface EngineFacts {
  uid: number;
  euid: number;
  user: string;
  status: ProcessStatus;
  /** Whether the engine is in the host's PID namespace, where runtimes' PIDs name the right processes. */
  hostPidNamespace: boolean;
  /** `known` false: no process of the host could be read, and the engine was taken to be on it. */
  hostRoot: { dir: string; visible: boolean; contained: boolean; known: boolean };
}

export interface TargetFacts {
  runtime: string;
  id: string;
  name: string;
  pid: number;
  /** Its PID as the container numbers it. */
  nsPid: number;
  status: ProcessStatus;
  /** The LSM label from /proc/PID/attr/current (null without AppArmor or SELinux), and the kernel's LSMs. */
  lsm: { label: string | null; modules: string[] };
  /** kernel.yama.ptrace_scope, null where Yama is not loaded. */
  yamaPtraceScope: number | null;
  /** Whether /proc/PID belongs to its effective user: no when it is not dumpable (a root target cannot tell). */
  dumpable: boolean | null;
  uidMap: string;
  gidMap: string;
  cgroup: string[];
  /** Each namespace's identity, and whether it differs from the engine's. */
  namespaces: Record<string, { id: string; differs: boolean }>;
  sandbox: Sandbox | null;
}

/** The status file's fields the doctor uses, parsed. */
export function parseStatus(text: string): ProcessStatus {
  const line = (key: string) => new RegExp(`^${key}:\\s*(.*)$`, 'm').exec(text)?.[1].trim();
  const ids = (key: string) => (line(key) ?? '').split(/\s+/).filter(Boolean).map(Number);
  const cap = (key: string) => capabilityField(text, key);
  const filters = line('Seccomp_filters');
  return {
    Uid: ids('Uid'), Gid: ids('Gid'),
    CapInh: cap('CapInh'), CapPrm: cap('CapPrm'), CapEff: cap('CapEff'), CapBnd: cap('CapBnd'), CapAmb: cap('CapAmb'),
    NoNewPrivs: Number(line('NoNewPrivs') ?? 0),
    Seccomp: Number(line('Seccomp') ?? 0),
    Seccomp_filters: filters === undefined ? null : Number(filters),
    TracerPid: Number(line('TracerPid') ?? 0),
    names: { CapPrm: capabilityNames(cap('CapPrm')), CapEff: capabilityNames(cap('CapEff')),
      CapBnd: capabilityNames(cap('CapBnd')) },
  };
}

export function engineFacts(hostRoot: HostRoot): EngineFacts {
  let user = String(process.geteuid?.());
  try {
    user = userInfo().username;
  } catch {
    // a UID with no passwd entry (a container's): the number is its name
  }
  return {
    uid: process.getuid?.() ?? -1,
    euid: process.geteuid?.() ?? -1,
    user,
    status: parseStatus(readFileSync('/proc/self/status', 'utf8')),
    hostPidNamespace: inHostPidNamespace(),
    hostRoot: { dir: hostRoot.dir, visible: hostRoot.visible, contained: hostRoot.contained, known: hostRoot.known },
  };
}

/** Everything about the pinned target that /proc and the system show; `sandbox` from native/sandbox.ts. */
export function targetFacts(t: Target, c: { runtime: string; id: string; name: string },
  sandbox: Sandbox | undefined): TargetFacts {
  const proc = (file: string) => readFileSync(`/proc/${t.pid}/${file}`, 'utf8');
  const status = parseStatus(proc('status'));
  const namespaces: TargetFacts['namespaces'] = {};
  for (const ns of NAMESPACES) {
    const id = t.namespaces[ns];
    if (id) namespaces[ns] = { id: `${ns}:[${id.ino}]`, differs: t.differing.includes(ns) };
  }
  return {
    runtime: c.runtime, id: c.id, name: c.name, pid: t.pid, nsPid: t.nsPid, status,
    lsm: { label: optional(() => proc('attr/current').replace(/\0/g, '').trim() || null),
      modules: optional(() => readFileSync('/sys/kernel/security/lsm', 'utf8').trim().split(',')) ?? [] },
    yamaPtraceScope: optional(() => Number(readFileSync('/proc/sys/kernel/yama/ptrace_scope', 'utf8'))),
    dumpable: dumpable(t.pid, status, optional(() => t.uidMap.toHost(0))),
    uidMap: proc('uid_map').trim(),
    gidMap: proc('gid_map').trim(),
    cgroup: proc('cgroup').trim().split('\n'),
    namespaces,
    sandbox: sandbox ?? null,
  };
}

/**
 * The kernel gives /proc/PID of a process that is not dumpable to root (proc's task_dump_owner):
 * to the root of its user namespace (`nsRoot`, as the host numbers it): for a target whose effective
 * user is another, an owner other than that user says so. For a root target the owner is the same
 * either way: unknown.
 */
function dumpable(pid: number, status: ProcessStatus, nsRoot: number | null): boolean | null {
  const euid = status.Uid[1];
  const owner = optional(() => statSync(`/proc/${pid}`).uid);
  if (owner === null || euid === nsRoot || euid === 0) return null;
  return owner === euid;
}

/** A value, or null where the file is missing or unreadable (no Yama, no LSM). */
function optional<T>(read: () => T): T | null {
  try {
    return read();
  } catch {
    return null;
  }
}
