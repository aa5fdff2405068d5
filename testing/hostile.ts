/**
 * The hostile-container suite: a container is untrusted, so what the engine starts in it must get
 * exactly what the runtime's own exec gives (capabilities, no_new_privs, seccomp, cgroups), must
 * fail where that exec fails, must never let the container's environment reach the host side,
 * and must fail closed. Each scenario compares against the runtime's own exec where there is one,
 * else against the target process itself.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { accessSync, constants, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync,
  writeFileSync } from 'node:fs';
import { execInTarget, spawnInTarget } from '../native/exec';
import { parseNamespaces, type Namespace, type Target } from '../native/target';
import type { ScopeError } from '../base/errors';
import { runPayload } from '../core/flows/run';
import { openProcessInContainer } from '../core/flows/target';
import { check, expectCode, skip, withTarget, type Scenario, type ScenarioContext } from './context';
import { runOnHost, toolsOnHost, type Ran } from './host-tools';

/** The runtime's own exec for the built-in adapters whose containers say which runtime made them. */
const PEER_EXEC: Record<string, string[]> = {
  docker: ['docker', 'exec', '{id}'],
  podman: ['podman', 'exec', '{id}'],
  ctr: ['ctr', '-n', 'default', 'task', 'exec', '--exec-id', '{unique}', '{id}'],
  nerdctl: ['ctr', '-n', 'default', 'task', 'exec', '--exec-id', '{unique}', '{id}'],
};

/** What the comparison looks at in /proc/self/status. */
const FIELDS = ['CapInh', 'CapPrm', 'CapEff', 'CapBnd', 'CapAmb', 'NoNewPrivs', 'Seccomp', 'Seccomp_filters'];

/** The runtime's own exec of `argv` in container `ref`, or undefined when the row has none. */
async function peerExec(ctx: ScenarioContext, ref: string, argv: string[]): Promise<Ran | undefined> {
  const words = ctx.row.exec ?? PEER_EXEC[ctx.row.runtime];
  if (!words || ctx.row.plugins) return undefined;
  const { id } = await ctx.engine.resolve(ctx.row.runtime, ref);
  const full = words.map((w) => w.replace('{id}', id)
    .replace('{unique}', `scope-matrix-${randomBytes(4).toString('hex')}`));
  if (toolsOnHost()) return runOnHost([...full, ...argv], 60_000);
  return new Promise((resolve) => {
    execFile(full[0], [...full.slice(1), ...argv], { timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err
        ? (typeof (err as { code?: unknown }).code === 'number' ? (err as { code: number }).code : null)
        : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}

/** The fields of a /proc/PID/status text, and the "N:controllers:path" lines of a cgroup file. */
function parseProc(text: string): { status: Record<string, string>; cgroups: Map<string, string> } {
  const status: Record<string, string> = {};
  const cgroups = new Map<string, string>();
  for (const line of text.split('\n')) {
    const cg = /^\d+:([^:]*):(.*)$/.exec(line);
    if (cg) cgroups.set(cg[1], cg[2]);
    else if (/^\w+:\s/.test(line)) status[line.slice(0, line.indexOf(':'))] = line.slice(line.indexOf(':') + 1).trim();
    // The bare number /proc/PID/oom_score_adj holds, which the reads below put last.
    else if (/^-?\d+$/.test(line)) status.OomScoreAdj = line;
  }
  return { status, cgroups };
}

const SELF = ['cat', '/proc/self/status', '/proc/self/cgroup', '/proc/self/oom_score_adj'];

/** Field by field, "CapEff ours 0 theirs a80425fb" for each difference. */
function differences(ours: Record<string, string>, theirs: Record<string, string>): string[] {
  return FIELDS.filter((f) => ours[f] !== theirs[f]).map((f) => `${f} ${ours[f]} vs ${theirs[f]}`);
}

/** A cgroup path equal to the target's, or below it (lxc puts what it attaches in a ".lxc" leaf). */
function within(path: string | undefined, base: string): boolean {
  return path === base || (!!path && path.startsWith(base === '/' ? '/' : `${base}/`));
}

async function runCaptured(ctx: ScenarioContext, ref: string, pid: number | undefined,
  command: string[]): Promise<string> {
  const r = await runPayload(ctx.engine, ctx.row.runtime, ref, { pid, command });
  const out: Buffer[] = [];
  r.process.child.stdout!.on('data', (b: Buffer) => out.push(b));
  r.process.child.stderr!.resume();
  await r.process.exited;
  return Buffer.concat(out).toString();
}

/** The attempts a planted program makes; each prints name=exit status. */
function escapeScript(hostMarker: string): string {
  const [major, minor] = rootDisk();
  const clean = 'umount /tmp/.se-mnt 2>/dev/null; rm -f /tmp/.se-blk; rmdir /tmp/.se-mnt 2>/dev/null';
  return [
    clean, // what an interrupted run may have left
    `mknod /tmp/.se-blk b ${major} ${minor} 2>/dev/null; echo mknod=$?`,
    'head -c 1 /tmp/.se-blk >/dev/null 2>&1; echo read-device=$?',
    'mkdir -p /tmp/.se-mnt; mount -o ro /tmp/.se-blk /tmp/.se-mnt 2>/dev/null; echo mount-device=$?; ' +
      'umount /tmp/.se-mnt 2>/dev/null',
    // A container allowed to remount its root (a privileged LXC one) gets it back as it was, so the
    // next run, ours or the runtime's, starts from the same state ("bind": that mount only, never the
    // filesystem under it, which is the host's).
    'was=$(awk \'$5 == "/" { split($6, o, ","); m = o[1] } END { print m }\' /proc/self/mountinfo)',
    'mount -o remount,rw / 2>/dev/null; echo remount-root=$?; ' +
      '[ "$was" = ro ] && mount -o remount,bind,ro / 2>/dev/null',
    'touch /.se-root 2>/dev/null; echo write-root=$?; rm -f /.se-root',
    `echo x 2>/dev/null >/proc/1/root${hostMarker}; echo proc1-root=$?; rm -f /proc/1/root${hostMarker}`,
    clean,
  ].join('\n');
}

/** The host's first disk, as /proc/partitions lists it: what a container must never read. */
function rootDisk(): [string, string] {
  const line = readFileSync('/proc/partitions', 'utf8').split('\n').slice(2).find((l) => l.trim());
  check(line, 'the host lists no disk in /proc/partitions');
  const [major, minor] = line.trim().split(/\s+/);
  return [major, minor];
}

/**
 * Grows until the limits say no: a chain of shells, each the only child of the one before, up to
 * 64 deep (a fork the pids limit refuses ends one shell, whose parent reaps it, so nothing is left
 * to a container init that may never reap orphans); then memory, doubling a string to 128 MiB.
 */
const LIMITS_SCRIPT = [
  'export D=0 S=\'D=$((D+1)); echo depth=$D; [ $D -lt 64 ] && sh -c "$S" 2>/dev/null; true\'; sh -c "$S" | tail -n 1',
  'awk \'BEGIN { s = "x"; while (length(s) < 134217728) s = s s; print "grew" }\' 2>/dev/null; echo memory=$?',
].join('\n');

async function compareAttempts(ctx: ScenarioContext, ref: string, script: string): Promise<string[]> {
  const ours = await withTarget(ctx, ref, (t) => execInTarget(t, { argv: ['sh', '-c', script] }));
  const theirs = await peerExec(ctx, ref, ['sh', '-c', script]);
  if (!theirs) return [ours.stdout];
  check(ours.stdout === theirs.stdout, `${ref}: ours ${ours.stdout.trim().replace(/\n/g, ' ')} | ` +
    `the runtime's exec ${theirs.stdout.trim().replace(/\n/g, ' ')}`);
  return [ours.stdout, theirs.stdout];
}

/** The target's cgroup directory for one controller on this host ("" for cgroup v2). */
function cgroupDir(pid: number, controller: string): string | undefined {
  const line = readFileSync(`/proc/${pid}/cgroup`, 'utf8').split('\n')
    .find((l) => (controller ? l.split(':')[1]?.split(',').includes(controller) : l.startsWith('0::')));
  if (!line) return undefined;
  const path = line.split(':').slice(2).join(':');
  for (const m of readFileSync('/proc/self/mountinfo', 'utf8').split('\n')) {
    const [left, right] = m.split(' - ');
    if (!right) continue;
    const [fstype, , opts] = right.split(' ');
    const [, , , root, point] = left.split(' ');
    const matches = controller ? fstype === 'cgroup' && opts.split(',').includes(controller) : fstype === 'cgroup2';
    if (matches && root === '/') return `${point}${path}`;
  }
  return undefined;
}

/** Freezes the target's cgroup behind the runtime's back (as `docker pause` does), runs `fn`, thaws. */
async function frozen<T>(pid: number, fn: () => Promise<T>): Promise<T> {
  const v1 = cgroupDir(pid, 'freezer');
  const v2 = cgroupDir(pid, '');
  const [file, freeze, thaw] = v1 ? [`${v1}/freezer.state`, 'FROZEN', 'THAWED'] : [`${v2}/cgroup.freeze`, '1', '0'];
  check(v1 || (v2 && existsSync(file)), `no freezer for PID ${pid}`);
  writeFileSync(file, freeze);
  try {
    return await fn();
  } finally {
    writeFileSync(file, thaw);
  }
}

function isWritable(path: string): boolean {
  return accessible(path, constants.W_OK);
}

function readable(path: string): boolean {
  return accessible(path, constants.R_OK);
}

function accessible(path: string, mode: number): boolean {
  try {
    accessSync(path, mode);
    return true;
  } catch {
    return false;
  }
}

/** Which limits a container's main process is under, read on the host. */
function limitsOf(pid: number): { memory: boolean; pids: boolean; readOnly: boolean } {
  const read = (path: string | undefined) => (path && existsSync(path) ? readFileSync(path, 'utf8').trim() : 'max');
  const mem = cgroupDir(pid, 'memory');
  const v2 = cgroupDir(pid, '');
  const memory = mem ? BigInt(read(`${mem}/memory.limit_in_bytes`).replace('max', '0')) < 1n << 60n &&
    read(`${mem}/memory.limit_in_bytes`) !== '0'
    : read(v2 && `${v2}/memory.max`) !== 'max';
  const pidsDir = cgroupDir(pid, 'pids') ?? v2;
  const pids = read(pidsDir && `${pidsDir}/pids.max`) !== 'max';
  const root = readFileSync(`/proc/${pid}/mountinfo`, 'utf8').split('\n').find((l) => l.split(' ')[4] === '/');
  return { memory, pids, readOnly: !!root && root.split(' ')[5].split(',').includes('ro') };
}

function processesIn(t: Target): number {
  const ns = t.namespaces.pid;
  return readdirSync('/proc').filter((e) => {
    if (!/^\d+$/.test(e)) return false;
    try {
      const st = statSync(`/proc/${e}/ns/pid`);
      return st.ino === ns?.ino && st.dev === ns?.dev;
    } catch {
      return false;
    }
  }).length;
}

export const HOSTILE: Scenario[] = [
  {
    id: 'same-confinement', title: 'same confinement as its exec',
    async run(ctx) {
      const ref = ctx.row.running;
      const { ours, target, pid } = await withTarget(ctx, ref, async (t) => ({
        pid: t.pid,
        ours: parseProc((await execInTarget(t, { argv: SELF })).stdout),
        // The target as the program sees it from inside: its cgroup paths in the same cgroup namespace.
        target: parseProc((await execInTarget(t,
          { argv: ['cat', ...['status', 'cgroup', 'oom_score_adj'].map((f) => `/proc/${t.nsPid}/${f}`)] })).stdout),
      }));
      const run = parseProc(await runCaptured(ctx, ref, undefined, SELF));
      check(ours.cgroups.size > 0, 'exec saw no cgroups');
      const peer = await peerExec(ctx, ref, SELF);
      const self = parseProc(readFileSync('/proc/self/cgroup', 'utf8'));
      const excusedCgroups = new Set<string>();
      for (const [h, path] of target.cgroups) {
        // A rootless container on cgroup v1 may sit in a cgroup its user cannot write (one it inherited,
        // with no limit of its runtime's): runc and crun then leave a rootless exec where it was
        // started (podman's beside its caller, docker's beside the daemon), and we stay beside ours.
        const excused = process.geteuid?.() !== 0 &&
          !isWritable(`${cgroupDir(pid, h.split(',')[0]) ?? '/nonexistent'}/cgroup.procs`);
        if (excused) excusedCgroups.add(h);
        const want = excused ? self.cgroups.get(h) : path;
        check(ours.cgroups.get(h) === want, `exec: cgroup ${h || 'v2'} is ${ours.cgroups.get(h)}, not ${want}`);
        check(run.cgroups.get(h) === want, `run: cgroup ${h || 'v2'} is ${run.cgroups.get(h)}, not ${want}`);
      }
      if (peer) check(peer.code === 0, `the runtime's own exec failed: ${peer.stderr.trim()}`);
      const theirs = peer ? parseProc(peer.stdout) : target;
      const what = peer ? 'the runtime\'s exec' : 'the target';
      const diff = [...differences(ours.status, theirs.status).map((d) => `exec: ${d}`),
        ...differences(run.status, theirs.status).map((d) => `run: ${d}`)];
      check(!diff.length, `not as ${what}: ${diff.join('; ')}`);
      // The OOM score adjustment is the target's (what a runtime's exec inherits from the container's
      // shim), or higher where lowering it needs a privilege the engine lacks: never one that makes the
      // container's own processes the likelier victims of its memory limit.
      for (const [how, got] of [['exec', ours], ['run', run]] as const) {
        const [mine, theirs] = [Number(got.status.OomScoreAdj), Number(target.status.OomScoreAdj)];
        check(mine === theirs || (process.geteuid?.() !== 0 && mine > theirs),
          `${how}: oom_score_adj ${got.status.OomScoreAdj} vs the target's ${target.status.OomScoreAdj}`);
      }
      if (peer) {
        for (const [h, path] of target.cgroups) if (!excusedCgroups.has(h)) check(within(theirs.cgroups.get(h), path),
          `the runtime's exec is in ${theirs.cgroups.get(h)}, outside ${path}`);
      }
    },
  },
  {
    id: 'no-escape', title: 'a planted program cannot escape',
    async run(ctx) {
      const marker = `/tmp/scope-matrix-escape-${randomBytes(4).toString('hex')}`;
      const [ours] = await compareAttempts(ctx, ctx.row.running, escapeScript(marker));
      check(!existsSync(marker), `a write through /proc/1/root reached the host's ${marker}`);
      const refused = (name: string) => new RegExp(`^${name}=[1-9]`, 'm').test(ours);
      const target = await withTarget(ctx, ctx.row.running, async (t) => readFileSync(`/proc/${t.pid}/status`, 'utf8'));
      const sysAdmin = (BigInt(`0x${parseProc(target).status.CapBnd}`) >> 21n) & 1n;
      if (!sysAdmin) check(refused('mount-device') && refused('remount-root'),
        `without CAP_SYS_ADMIN a mount went through: ${ours}`);
      if (!ctx.row.limited) return;
      const [limited] = await compareAttempts(ctx, ctx.row.limited, `${escapeScript(marker)}\n${LIMITS_SCRIPT}`);
      const has = await withTarget(ctx, ctx.row.limited, async (t) => limitsOf(t.pid));
      check(has.memory || has.pids || has.readOnly,
        `${ctx.row.limited} has no memory or pids limit and a writable root`);
      if (has.memory) check(!/^grew$/m.test(limited), `grew past the memory limit of ${ctx.row.limited}`);
      if (has.pids) check(Number(/^depth=(\d+)$/m.exec(limited)?.[1]) < 64,
        `forked past the pids limit of ${ctx.row.limited}: ${limited}`);
      if (has.readOnly) check(/^write-root=[1-9]/m.test(limited), `wrote to the read-only root of ${ctx.row.limited}`);
    },
  },
  {
    id: 'clean-host', title: 'the container\'s environment stays inside',
    run: (ctx) => withTarget(ctx, ctx.row.running, async (main) => {
      // A process inside whose environment names host files for the dynamic loader: if anything of
      // ours ran a dynamic loader on the host with it, LD_DEBUG_OUTPUT would appear on the host.
      // Its PATH names a host directory first, holding a "true" that would leave a mark: a program
      // looked up on the host's files (exec --ns without mnt) must never be found through it.
      const stem = `scope-matrix-ld-${randomBytes(4).toString('hex')}`;
      const bin = `/tmp/${stem}-bin`;
      mkdirSync(bin);
      writeFileSync(`${bin}/true`, `#!/bin/sh\ntouch /tmp/${stem}-path\n`, { mode: 0o755 });
      const libc = readFileSync('/proc/self/maps', 'utf8').split('\n').map((l) => l.split(/\s+/)[5])
        .find((p) => p && /\/libc[.-]/.test(p));
      const env = { LD_PRELOAD: libc ?? '/lib/x86_64-linux-gnu/libc.so.6', LD_LIBRARY_PATH: '/tmp',
        LD_AUDIT: libc ?? '', LD_DEBUG: 'files',
        LD_DEBUG_OUTPUT: `/tmp/${stem}`, PATH: `${bin}:/usr/bin:/bin` };
      const planted = spawnInTarget(main, { argv: ['sleep', '60'], env, stdio: ['ignore', 'ignore', 'ignore'] });
      try {
        const hostPid = await planted.started;
        const nsPid = Number(/^NSpid:.*?(\d+)\s*$/m.exec(readFileSync(`/proc/${hostPid}/status`, 'utf8'))?.[1]);
        const target = openProcessInContainer(main, nsPid);
        let seen: string;
        try {
          seen = (await execInTarget(target, { argv: ['cat', '/proc/self/environ'] })).stdout;
          // Without root, no namespace of a container can be joined without its user namespace.
          // Looked up in the engine's own files: an engine in its image has no `true`, and not finding
          // one is right; finding the container's is the failure checked below.
          const namespaces: Namespace[] = process.geteuid?.() === 0 ? ['uts'] : ['user', 'uts'];
          await execInTarget(target, { argv: ['true'], namespaces })
            .catch((err: ScopeError) => { if (err.code !== 'E_EXEC_NOT_FOUND') throw err; });
        } finally {
          target.close();
        }
        await runCaptured(ctx, ctx.row.running, nsPid, ['true']);
        check(!existsSync(`/tmp/${stem}-path`), 'a program was looked up on the host through the container\'s PATH');
        const leaked = readdirSync('/tmp').filter((f) => f.startsWith(stem) && f !== `${stem}-bin`);
        check(!leaked.length, `a loader on the host read the container's environment: ${leaked.join(', ')}`);
        // Inside, the program gets the target's environment, as docker exec gives the container's.
        if (!readable(`/proc/${hostPid}/environ`)) {
          return skip('without root the target\'s environment cannot be read (its /proc files belong to a ' +
            'subordinate ID of this user, which the kernel lets only root read): the program got PATH and ' +
            'HOME of the engine\'s making; nothing leaked to the host');
        }
        check(seen.split('\0').includes(`LD_DEBUG_OUTPUT=/tmp/${stem}`),
          'the program inside did not get the target\'s environment');
      } finally {
        planted.child.kill('SIGKILL');
        await planted.exited.catch(() => undefined);
        rmSync(bin, { recursive: true, force: true });
      }
    }),
  },
  {
    id: 'fail-closed', title: 'fails closed (no namespaces, paused)',
    run: (ctx) => withTarget(ctx, ctx.row.running, async (t) => {
      for (const list of ['', ',', 'net,']) {
        let err: { code?: string } | undefined;
        try {
          parseNamespaces(list);
        } catch (e) {
          err = e as { code?: string };
        }
        check(err?.code === 'E_USAGE', `--ns "${list}" was accepted`);
      }
      await expectCode(execInTarget(t, { argv: ['true'], namespaces: [] }), 'E_USAGE');
      if (process.geteuid?.() !== 0)
        await expectCode(execInTarget(t, { argv: ['true'], namespaces: ['uts'] }), 'E_PERMISSION');
      const freezer = cgroupDir(t.pid, 'freezer') ?? cgroupDir(t.pid, '');
      if (freezer && !isWritable(freezer)) {
        return skip(`the container's freezer cgroup ${freezer} is not writable by this user, so neither its runtime ` +
          `nor this check can pause it (cgroup v1 delegates no freezer to a user)`);
      }
      const before = processesIn(t);
      await frozen(t.pid, async () => {
        await expectCode(execInTarget(t, { argv: ['true'] }), 'E_NOT_RUNNING');
        await expectCode(runCaptured(ctx, ctx.row.running, undefined, ['true']), 'E_NOT_RUNNING');
      });
      check(processesIn(t) === before, `the paused container has ${processesIn(t)} processes, ${before} before`);
    }),
  },
];
