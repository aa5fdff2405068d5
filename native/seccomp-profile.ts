/**
 * The seccomp profile of a container's OCI spec ("linux.seccomp" of its config.json), flattened
 * into the lines scope-exec compiles with libseccomp (see native/src/seccomp-profile.c) when it
 * cannot read the target's live filter: an unprivileged engine never can. The spec is the one the
 * runtime's own exec compiles for the same container; the live filter stays the truth whenever it
 * can be read, and scope-exec takes a profile only for a target under exactly one filter.
 */
import { closeSync, constants, fstatSync, openSync, readFileSync } from 'node:fs';
import { ScopeError } from '../base/errors';

/** Larger than any runtime's default profile (docker's is about 30 KiB) by far. */
const SPEC_MAX_BYTES = 4 << 20;

const ACTIONS: Record<string, string> = {
  SCMP_ACT_ALLOW: 'ALLOW', SCMP_ACT_ERRNO: 'ERRNO', SCMP_ACT_KILL: 'KILL_THREAD', SCMP_ACT_KILL_THREAD: 'KILL_THREAD',
  SCMP_ACT_KILL_PROCESS: 'KILL_PROCESS', SCMP_ACT_TRAP: 'TRAP', SCMP_ACT_TRACE: 'TRACE', SCMP_ACT_LOG: 'LOG',
};
const OPS: Record<string, string> = {
  SCMP_CMP_NE: 'NE', SCMP_CMP_LT: 'LT', SCMP_CMP_LE: 'LE', SCMP_CMP_EQ: 'EQ', SCMP_CMP_GE: 'GE', SCMP_CMP_GT: 'GT',
  SCMP_CMP_MASKED_EQ: 'MASKED_EQ',
};
const FLAGS: Record<string, string> = { SECCOMP_FILTER_FLAG_LOG: 'log', SECCOMP_FILTER_FLAG_SPEC_ALLOW: 'spec_allow' };
/** What runc and crun give ERRNO and TRACE actions that name no errno. */
const EPERM = 1;

interface OciSeccomp {
  defaultAction: string;
  defaultErrnoRet?: number;
  architectures?: string[];
  flags?: string[];
  listenerPath?: string;
  syscalls?: { names: string[]; action: string; errnoRet?: number;
    args?: { index: number; value: number; valueTwo?: number; op: string }[] }[];
}

/**
 * The profile lines of the spec at `path`, or undefined when the spec gives no seccomp profile.
 * The file is read as a regular file only (never a FIFO or device that would hold us), bounded.
 */
export function profileOfSpec(path: string): string | undefined {
  let spec: { linux?: { seccomp?: OciSeccomp } };
  try {
    const fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOFOLLOW);
    try {
      const st = fstatSync(fd);
      if (!st.isFile() || st.size > SPEC_MAX_BYTES) throw new Error(st.isFile()
        ? 'larger than 4 MiB' : 'not a regular file');
      spec = JSON.parse(readFileSync(fd, 'utf8'));
    } finally {
      closeSync(fd);
    }
  } catch (err) {
    throw refused(`reading the container's OCI spec ${path}: ${(err as Error).message}`);
  }
  const seccomp = spec?.linux?.seccomp;
  return seccomp ? profileLines(seccomp) : undefined;
}

/** The lines of one OCI seccomp profile; anything scope-exec could not apply as the runtime does is refused. */
export function profileLines(p: OciSeccomp): string {
  if (p.listenerPath) throw refused(
    'the profile hands syscalls to a listener (SCMP_ACT_NOTIFY), which only the runtime can serve');
  const lines = [`default ${action(p.defaultAction)} ${errnoOf(p.defaultErrnoRet)}`];
  for (const arch of p.architectures ?? []) lines.push(`arch ${word(arch, /^SCMP_ARCH_([A-Z0-9_]+)$/).toLowerCase()}`);
  for (const flag of p.flags ?? []) {
    if (!FLAGS[flag]) throw refused(`unknown seccomp flag ${flag}`);
    lines.push(`flag ${FLAGS[flag]}`);
  }
  for (const rule of p.syscalls ?? []) {
    const head = `${action(rule.action)} ${errnoOf(rule.errnoRet)}`;
    const conditions = (rule.args ?? [])
      .map((a) => `${int(a.index)} ${OPS[a.op] ?? badOp(a.op)} ${int(a.value)} ${int(a.valueTwo ?? 0)}`);
    // runc's reading of a rule that tests one argument twice: each test a rule of its own (an OR).
    const indexes = (rule.args ?? []).map((a) => a.index);
    const groups = new Set(indexes).size < indexes.length ? conditions.map((c) => [c]) : [conditions];
    for (const name of rule.names ?? []) {
      word(name, /^[a-z0-9_]+$/);
      for (const group of groups) lines.push(['rule', head, name, ...group].join(' '));
    }
  }
  return `${lines.join('\n')}\n`;
}

function action(name: string): string {
  if (name === 'SCMP_ACT_NOTIFY') throw refused(
    'the profile hands syscalls to a listener (SCMP_ACT_NOTIFY), which only the runtime can serve');
  return ACTIONS[name] ?? (() => { throw refused(`unknown seccomp action ${name}`); })();
}

function errnoOf(n: number | undefined): number {
  return n === undefined ? EPERM : int(n);
}

function int(n: unknown): number {
  if (!Number.isSafeInteger(n) || (n as number) < 0) throw refused(
    `a number seccomp cannot take: ${JSON.stringify(n)}`);
  return n as number;
}

function word(text: string, shape: RegExp): string {
  const m = typeof text === 'string' ? shape.exec(text) : null;
  if (!m) throw refused(`a name seccomp does not know: ${JSON.stringify(text)}`);
  return m[1] ?? m[0];
}

function badOp(op: string): never {
  throw refused(`unknown seccomp comparison ${op}`);
}

function refused(why: string): ScopeError {
  return new ScopeError('E_CONFINEMENT', `cannot give the program the target's seccomp filter: ${why}`);
}
