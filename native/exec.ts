/**
 * Running a program inside a target's container through the scope-exec helper. The helper is an
 * ordinary child process, so stdio, exit codes and signals work as for any child; it inherits the
 * target's pidfd as fd 3, reports its own failures and the program's PID on fd 4, and reads the
 * program's environment from fd 5. The helper itself gets an empty environment: it runs on the
 * host before entering, and nothing the container chose (LD_PRELOAD, ...) may reach it there.
 * checkInTarget enters the same way and starts nothing: the helper reports what a program would meet.
 */
import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { capabilityField, hasCapability } from '../base/capabilities';
import { ScopeError } from '../base/errors';
import { helperError, type HelperEvent } from './exec-errors';
import { execHelperPath, native } from './index';
import { profileOfSpec } from './seccomp-profile';
import { NAMESPACES, type Namespace, type Target } from './target';

export interface ExecOptions {
  /** The program and its arguments: a path or a name looked up in PATH inside the container. */
  argv: string[];
  /** Namespaces to join; default: every one where the target differs from the engine. */
  namespaces?: Namespace[];
  /**
   * IDs as the container sees them; default the target's own (uid, gid and groups), as docker exec
   * uses the container's user. Another user gets only its group, as `docker exec --user` does.
   */
  uid?: number;
  gid?: number;
  /** Keep the engine's capabilities, no seccomp filter, no LSM label (docker exec --privileged). */
  privileged?: boolean;
  /** Working directory inside the container; default /. */
  cwd?: string;
  /** Variables added to (or replacing) the target's own environment. */
  env?: Record<string, string>;
  /** argv[0] is a host path, opened before entering the container: runs tools a container lacks. */
  hostBinary?: boolean;
  /** Run this host file (a sealed copy of it) with argv as given, argv[0] naming it inside. */
  program?: string;
  /** Give the program a pseudo-terminal. */
  tty?: boolean;
  /** Let the program outlive the engine (otherwise it gets SIGHUP when the engine dies). */
  keep?: boolean;
  /** stdin, stdout and stderr of the helper, as for child_process.spawn. Default all 'pipe'. */
  stdio?: [StdioOptions, StdioOptions, StdioOptions] | 'pipe' | 'inherit';
}

/** A running program: the helper's ChildProcess plus what the helper reports. */
export interface ExecProcess {
  child: ChildProcess;
  /** Resolves with the program's host PID once it is forked, rejects if the helper failed first. */
  started: Promise<number>;
  /** Resolves with the program's end; rejects with E_NAMESPACE/E_EXEC_* if it never ran. */
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
}


const DEFAULT_PATH = '/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin';

/** How a program enters a target: what spawnInTarget and checkInTarget share. */
export type EntryOptions = Pick<ExecOptions, 'namespaces' | 'uid' | 'gid' | 'privileged'>;

/** Data the helper reads from a memfd it inherits, on the descriptor its option names. */
interface HelperInput {
  option: '--env-fd' | '--seccomp-fd';
  name: string;
  data: Buffer;
}

/** The helper's way in: its arguments before the mode's own, and the inputs that go with them. */
interface Entry {
  namespaces: Namespace[];
  args: string[];
  inputs: HelperInput[];
}

/**
 * Everything the engine checks and decides before the helper enters `target`: the namespaces, the IDs,
 * privilege, and the runtime's seccomp profile for a helper that cannot read the live filter. A refusal
 * here comes before anything is started.
 */
function entryOf(target: Target, opts: EntryOptions): Entry {
  const namespaces = opts.namespaces ?? target.differing;
  if (opts.namespaces && !opts.namespaces.length) throw new ScopeError('E_USAGE',
    `no namespace to join; known: ${NAMESPACES.join(', ')}`);
  for (const ns of namespaces) {
    if (!NAMESPACES.includes(ns)) throw new ScopeError('E_USAGE',
      `unknown namespace "${ns}"; known: ${NAMESPACES.join(', ')}`);
  }
  target.assertAlive();
  // Without root, joining any namespace of another user namespace needs the capability that only
  // joining that user namespace gives (setns checks it in ours as well): say so before trying.
  if (process.geteuid?.() !== 0 && target.differing.includes('user') && namespaces.length &&
    !namespaces.includes('user')) {
    throw new ScopeError('E_PERMISSION', `without root, ${namespaces.join(', ')} of this container can be joined ` +
      'only together with its user namespace: add user to --ns');
  }
  const args = ['--pidfd', '3', '--pid', String(target.pid), '--report-fd', '4'];
  if (namespaces.length) args.push('--ns', namespaces.join(','));
  const ids = credentials(target, opts, namespaces.includes('user'));
  args.push('--uid', String(ids.uid), '--gid', String(ids.gid), '--groups', ids.groups.join(','));
  if (opts.privileged) args.push('--privileged');
  // The target's capabilities hold in its user namespace; a program left in ours gets none of them.
  else if (target.differing.includes('user') && !namespaces.includes('user')) args.push('--no-caps');
  // The runtime's profile, for a helper that cannot read the target's live filter (an unprivileged engine).
  const profile = !opts.privileged && target.spec && !canReadFilters() ? profileOfSpec(target.spec) : undefined;
  const inputs: HelperInput[] = profile
    ? [{ option: '--seccomp-fd', name: 'scope-exec-seccomp', data: Buffer.from(profile) }] : [];
  return { namespaces, args, inputs };
}

/**
 * Starts the helper on `entry` and then `tail` (the mode's own arguments): the target's pidfd as fd 3, the
 * report pipe as fd 4, each input as a memfd from fd 5 on. The memfds are ours to close once it has its copies.
 */
function spawnHelper(target: Target, entry: Entry, tail: string[], stdio: StdioOptions[], detached?: boolean):
  ChildProcess {
  const fds: number[] = [];
  try {
    const args = [...entry.args];
    for (const input of entry.inputs) {
      args.push(input.option, String(5 + fds.length));
      fds.push(native().memfdOf(input.name, input.data));
    }
    return spawn(execHelperPath(), [...args, ...tail], {
      stdio: [...stdio, target.pidfd, 'pipe', ...fds] as StdioOptions,
      env: {},
      detached,
    });
  } finally {
    for (const fd of fds) native().closeFd(fd);
  }
}

/** The helper's end: its exit code or signal; E_NATIVE_MISSING when it could not be started at all. */
function helperEnd(child: ChildProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  return new Promise((resolve, reject) => {
    child.once('error', (err) => reject(new ScopeError('E_NATIVE_MISSING',
      `starting ${execHelperPath()}: ${err.message}`, { cause: err })));
    child.once('close', (code, signal) => resolve({ code, signal }));
  });
}

/** Each JSON line of the helper's report pipe, in order; the pipe closes before the child's 'close'. */
function onReport(child: ChildProcess, each: (ev: HelperEvent) => void, closed?: () => void): void {
  const lines = createInterface({ input: child.stdio[4] as NodeJS.ReadableStream });
  lines.on('line', (line) => each(JSON.parse(line) as HelperEvent));
  if (closed) lines.on('close', closed);
}

export function spawnInTarget(target: Target, opts: ExecOptions): ExecProcess {
  if (!opts.argv.length) throw new ScopeError('E_USAGE', 'no program to run');
  const entry = entryOf(target, opts);
  const envBlock = Buffer.from(Object.entries(environment(target, opts, entry.namespaces.includes('mnt')))
    .map(([k, v]) => `${k}=${v}\0`).join(''));
  entry.inputs.unshift({ option: '--env-fd', name: 'scope-exec-env', data: envBlock });
  const tail = ['--cwd', opts.cwd ?? '/'];
  const program = opts.hostBinary ? opts.program ?? opts.argv[0] : opts.program;
  if (program) tail.push('--exec-file', program);
  if (opts.tty) tail.push('--tty');
  if (opts.keep) tail.push('--keep');
  tail.push('--', ...opts.argv);
  const stdio = opts.stdio === 'inherit' ? ['inherit', 'inherit', 'inherit']
    : opts.stdio === 'pipe' || !opts.stdio ? ['pipe', 'pipe', 'pipe'] : opts.stdio;
  const child = spawnHelper(target, entry, tail, stdio as StdioOptions[], opts.keep);
  let failure: HelperEvent | undefined;
  let pid: number | undefined;
  const started = new Promise<number>((resolve, reject) => {
    onReport(child, (ev) => {
      if (ev.event === 'started') resolve((pid = ev.value));
      else failure = failure ?? ev;
    }, () => {
      if (pid === undefined) reject(helperError(failure, opts));
    });
  });
  started.catch(() => undefined);
  const exited = helperEnd(child).then((status) => {
    // An error line means the helper (or the child before exec) failed: the program never ran.
    if (failure) throw helperError(failure, opts);
    return status;
  });
  // A caller that awaits only one of the two must not leave the other's failure unhandled.
  exited.catch(() => undefined);
  return { child, started, exited };
}

/** Runs a program to its end, feeding `input` to its stdin; returns its output and status. */
export async function execInTarget(target: Target, opts: ExecOptions & { input?: string | Buffer }):
  Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string; pid: number }> {
  const p = spawnInTarget(target, { ...opts, stdio: 'pipe' });
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  p.child.stdout!.on('data', (b: Buffer) => out.push(b));
  p.child.stderr!.on('data', (b: Buffer) => err.push(b));
  p.child.stdin!.on('error', () => undefined);
  p.child.stdin!.end(opts.input ?? '');
  const [status, pid] = await Promise.all([p.exited, p.started]);
  return { ...status, stdout: Buffer.concat(out).toString(), stderr: Buffer.concat(err).toString(), pid };
}

/** The system calls checkInTarget judges, as a payload that looks at the container's PID 1 makes them. */
const CHECKED_SYSCALLS = ['ptrace', 'process_vm_readv', 'process_vm_writev', 'kcmp'] as const;

/** What a program started in a target's container would meet there, said without starting one. */
export interface EntryCheck {
  /**
   * Where the seccomp filters judged came from: `none` (the target has none, or privileged: no filter is
   * given), `live` (the target's own, read through ptrace), `profile` (its runtime's profile, compiled).
   */
  source: 'none' | 'live' | 'profile';
  /** How many filters a program would run under. */
  filters: number;
  /** How many cgroups a program would be moved into (those the engine is not in already). */
  cgroups: number;
  /**
   * The filters' combined verdict on each call, as the kernel would give it: "allow", "log", "errno:N",
   * "trap", "trace", "user_notif", "kill_thread" or "kill_process" (see native/src/seccomp-eval.c).
   */
  syscalls: Record<(typeof CHECKED_SYSCALLS)[number], string>;
}

/**
 * Enters `target` as spawnInTarget would for a program (the same checks, the same namespaces joined, the
 * same failures and errors), then starts nothing: the helper reports what a program would meet and ends.
 */
export async function checkInTarget(target: Target, opts: EntryOptions = {}): Promise<EntryCheck> {
  const child = spawnHelper(target, entryOf(target, opts), ['--check'], ['ignore', 'ignore', 'ignore']);
  let checked: HelperEvent | undefined;
  let failure: HelperEvent | undefined;
  onReport(child, (ev) => {
    if (ev.event === 'checked') checked = ev;
    else failure ??= ev;
  });
  const status = await helperEnd(child);
  if (failure) throw helperError(failure, { argv: [] });
  if (!checked || status.code !== 0) {
    throw new ScopeError('E_NAMESPACE', `the exec helper ended (${status.signal ?? `exit code ${status.code}`}) ` +
      'without reporting its check');
  }
  return entryCheckOf(checked);
}

/** The "checked" line's detail, "source=live filters=1 ptrace=allow ...", as an EntryCheck. */
function entryCheckOf(ev: HelperEvent): EntryCheck {
  const fields = new Map(ev.detail.split(' ').map((kv) => {
    const eq = kv.indexOf('=');
    return [kv.slice(0, eq), kv.slice(eq + 1)];
  }));
  const source = fields.get('source');
  const filters = Number(fields.get('filters'));
  const syscalls = Object.fromEntries(CHECKED_SYSCALLS.map((name) => [name, fields.get(name) ?? '']));
  if ((source !== 'none' && source !== 'live' && source !== 'profile') || !Number.isInteger(filters) ||
    Object.values(syscalls).some((v) => !v)) {
    throw new ScopeError('E_INTERNAL', `the exec helper's check is not one this engine reads: "${ev.detail}"`);
  }
  return { source, filters, cgroups: ev.value, syscalls: syscalls as EntryCheck['syscalls'] };
}

/**
 * The IDs the helper switches to. Inside a joined user namespace they are the container's own;
 * otherwise the kernel takes host IDs, so the container's are mapped first.
 */
function credentials(target: Target, opts: EntryOptions, joinsUserNs: boolean) {
  const own = { uid: target.uidMap.toContainer(target.uid), gid: target.gidMap.toContainer(target.gid) };
  const uid = opts.uid ?? own.uid;
  const gid = opts.gid ?? own.gid;
  // The target's own supplementary groups (even none) go with its own user, as a runtime's exec
  // gives the container's; a group outside the map cannot be set inside.
  const ownGroups = target.groups.filter((g) => target.gidMap.hasHost(g)).map((g) => target.gidMap.toContainer(g));
  const groups = uid === own.uid && gid === own.gid ? ownGroups : [gid];
  // An ID with no host counterpart cannot be taken inside either: say so before anything starts.
  const host = {
    uid: target.uidMap.toHost(uid), gid: target.gidMap.toHost(gid),
    groups: groups.map((g) => target.gidMap.toHost(g)),
  };
  return joinsUserNs ? { uid, gid, groups } : host;
}

/**
 * The target's own environment (as docker exec uses the container's), then the caller's additions.
 * Without the mount namespace the program is looked up and runs on the host's files, so nothing of
 * the container's may steer it (its PATH could name a directory it controls on the host, its
 * LD_PRELOAD a library there): it gets an environment of the engine's making.
 */
function environment(target: Target, opts: ExecOptions, joinsMnt: boolean): Record<string, string> {
  const env: Record<string, string> = {};
  if (joinsMnt) readEnviron(target, env);
  env.PATH ??= DEFAULT_PATH;
  env.HOME ??= '/root';
  if (opts.tty) env.TERM ??= process.env.TERM ?? 'xterm';
  return { ...env, ...opts.env };
}

/**
 * Whether scope-exec can read a target's live seccomp filters (CAP_SYS_ADMIN, no filter of ours), as it
 * checks itself.
 */
function canReadFilters(): boolean {
  const status = readFileSync('/proc/self/status', 'utf8');
  return hasCapability(capabilityField(status, 'CapEff'), 'SYS_ADMIN') && /^Seccomp:\s*0$/m.test(status);
}

function readEnviron(target: Target, env: Record<string, string>): void {
  try {
    for (const kv of readFileSync(`/proc/${target.pid}/environ`, 'utf8').split('\0')) {
      const i = kv.indexOf('=');
      if (i > 0) env[kv.slice(0, i)] = kv.slice(i + 1);
    }
  } catch {
    // Unreadable (the process exited or hid it): the defaults make a usable environment.
  }
}
