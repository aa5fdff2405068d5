/**
 * Linux capabilities by name, as /proc/PID/status shows them (hex masks), and the ones the engine
 * itself needs, each with what breaks without it: the doctor lists them, and an error that the
 * kernel's EPERM caused names the one the engine lacks instead of "run as root" to a root engine.
 */
import { readFileSync } from 'node:fs';

/** Bit N is the capability CAP_<NAMES[N]> (linux/capability.h). */
export const CAPABILITY_NAMES = [
  'CHOWN', 'DAC_OVERRIDE', 'DAC_READ_SEARCH', 'FOWNER', 'FSETID', 'KILL', 'SETGID', 'SETUID', 'SETPCAP',
  'LINUX_IMMUTABLE', 'NET_BIND_SERVICE', 'NET_BROADCAST', 'NET_ADMIN', 'NET_RAW', 'IPC_LOCK', 'IPC_OWNER',
  'SYS_MODULE', 'SYS_RAWIO', 'SYS_CHROOT', 'SYS_PTRACE', 'SYS_PACCT', 'SYS_ADMIN', 'SYS_BOOT', 'SYS_NICE',
  'SYS_RESOURCE', 'SYS_TIME', 'SYS_TTY_CONFIG', 'MKNOD', 'LEASE', 'AUDIT_WRITE', 'AUDIT_CONTROL', 'SETFCAP',
  'MAC_OVERRIDE', 'MAC_ADMIN', 'SYSLOG', 'WAKE_ALARM', 'BLOCK_SUSPEND', 'AUDIT_READ', 'PERFMON', 'BPF',
  'CHECKPOINT_RESTORE',
] as const;

export type Capability = (typeof CAPABILITY_NAMES)[number];

/** The names of the bits set in a mask as /proc shows it ("00000000a80425fb"); unknown bits as "CAP_<n>". */
export function capabilityNames(hex: string): string[] {
  const mask = BigInt(`0x${hex || '0'}`);
  const out: string[] = [];
  for (let bit = 0; bit < 64; bit++) {
    if ((mask >> BigInt(bit)) & 1n) out.push(CAPABILITY_NAMES[bit] ?? `CAP_${bit}`);
  }
  return out;
}

export function hasCapability(hex: string, name: Capability): boolean {
  return ((BigInt(`0x${hex || '0'}`) >> BigInt(CAPABILITY_NAMES.indexOf(name))) & 1n) === 1n;
}

/** What the engine does with each capability it needs, and the commands that fail without it. */
export const ENGINE_NEEDS: { name: Capability; for: string; commands: string[] }[] = [
  { name: 'SYS_ADMIN', for: 'joining a container\'s namespaces (setns) and reading its seccomp filters',
    commands: ['exec', 'run', 'cp', 'detach', 'ipc', 'stop'] },
  { name: 'SYS_CHROOT', for: 'joining a container\'s mount namespace and taking its root',
    commands: ['exec', 'run', 'cp'] },
  { name: 'SYS_PTRACE', for: 'opening another user\'s /proc/PID/root and namespaces, and reading seccomp filters',
    commands: ['exec', 'run', 'cp', 'detach', 'ipc', 'stop'] },
  { name: 'SETUID', for: 'taking the container user\'s UID', commands: ['exec', 'run', 'cp'] },
  { name: 'SETGID', for: 'taking the container user\'s GID and groups', commands: ['exec', 'run', 'cp'] },
  { name: 'SETPCAP', for: 'dropping the capabilities the target lacks from what it starts', commands: ['exec', 'run'] },
  { name: 'DAC_OVERRIDE', for: 'writing the target\'s cgroup.procs and files its user owns',
    commands: ['exec', 'run', 'cp'] },
  { name: 'KILL', for: 'signalling a payload that runs as another user', commands: ['stop'] },
];

/** A capability field ("CapEff", "CapBnd", ...) of /proc/PID/status, as hex. */
export function capabilityField(status: string, key: string): string {
  return new RegExp(`^${key}:\\s*([0-9a-f]+)`, 'm').exec(status)?.[1] ?? '0';
}

/** The engine's effective capabilities, as hex. */
export function ownCapabilities(): string {
  return capabilityField(readFileSync('/proc/self/status', 'utf8'), 'CapEff');
}

/**
 * Which of `names` the engine lacks, as a clause for an error message ("the engine lacks CAP_SYS_CHROOT"),
 * or '' when it has them all (then the cause is elsewhere: a seccomp filter, an LSM, a user namespace).
 */
export function lackingClause(names: Capability[]): string {
  const own = ownCapabilities();
  const missing = names.filter((n) => !hasCapability(own, n));
  if (!missing.length) return '';
  const who = process.geteuid?.() === 0 ? 'runs as root but lacks' : `runs as UID ${process.geteuid?.()} and lacks`;
  return `the engine ${who} ${missing.map((n) => `CAP_${n}`).join(', ')} (see scope-engine doctor)`;
}
