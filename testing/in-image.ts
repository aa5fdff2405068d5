/**
 * The matrix with the engine inside its image, run as the README's node agent line runs it: the
 * host's PID namespace, the host's / read-only at /hostfs, the capabilities below and nothing else,
 * docker's default seccomp profile. Each row runs in a container of its own that the lab file's row
 * may add flags to ("agent": classic LXC's --network host); the runtimes' own tools, which the image
 * lacks, run on the host (host-tools.ts).
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { PACKAGE_ROOT } from '../base/paths';
import { childRow, uniformRow } from './child-row';
import type { LabRow, MatrixRow } from './context';
import { HOST_TOOLS_VAR } from './host-tools';
import { skip } from './context';

/**
 * What the engine itself needs (joining namespaces, reading the target, taking its IDs, dropping
 * what it must not hand on), then what it hands on: a program gets the target's capabilities, and
 * no process can give one it lacks, so the agent holds the runtimes' default set.
 */
export const AGENT_CAPABILITIES = [
  'SYS_ADMIN', 'SYS_PTRACE', 'SYS_CHROOT', 'SETUID', 'SETGID', 'SETPCAP', 'KILL', 'DAC_OVERRIDE',
  'CHOWN', 'FOWNER', 'FSETID', 'MKNOD', 'NET_RAW', 'SETFCAP', 'NET_BIND_SERVICE', 'AUDIT_WRITE',
];

/**
 * `docker run` flags of the node agent: a program's limits are its target's, and raising a hard
 * limit above the engine's own needs CAP_SYS_RESOURCE, so the agent keeps the host's.
 */
export function agentFlags(): string[] {
  return ['--pid=host', '--cap-drop', 'ALL', ...AGENT_CAPABILITIES.flatMap((c) => ['--cap-add', c]),
    ...ulimitFlags(), '--security-opt', 'seccomp=unconfined', '-v', '/:/hostfs:ro'];
}

/** `--ulimit` flags giving a container this process's hard nproc and nofile limits: the host's. */
export function ulimitFlags(): string[] {
  return ['--ulimit', `nproc=${hardLimit('Max processes')}`, '--ulimit', `nofile=${hardLimit('Max open files')}`];
}

/** This process's hard limit of a /proc/self/limits line ("unlimited" as -1). */
function hardLimit(name: string): string {
  const line = readFileSync('/proc/self/limits', 'utf8').split('\n').find((l) => l.startsWith(name));
  const hard = line?.slice(name.length).trim().split(/\s+/)[1];
  if (!hard) throw new Error(`/proc/self/limits has no "${name}"`);
  return hard === 'unlimited' ? '-1' : hard;
}

/** `row` run by the engine in `image`, started by docker. */
export async function runRowInImage(row: LabRow, labFile: string, image: string): Promise<MatrixRow> {
  const why = row.agent?.skip ??
    (row.user && `a row of ${row.user}'s rootless runtime runs as that user on the host; the node agent is root's`);
  if (why) return uniformRow(row, skip(why));
  const mounts = [...new Set([PACKAGE_ROOT, dirname(labFile)])].flatMap((d) => ['-v', `${d}:${d}:ro`]);
  const argv = ['docker', 'run', '--rm', '--name', `scope-matrix-agent-${randomBytes(4).toString('hex')}`,
    ...agentFlags(), ...(row.agent?.flags ?? []), ...mounts, '-e', `${HOST_TOOLS_VAR}=1`, image,
    'matrix', '--lab', labFile, '--runtime', row.label, '--format', 'json', '--busybox', '/hostfs/bin/busybox'];
  return childRow(row, argv, { cwd: '/' }, `in ${image}`);
}
