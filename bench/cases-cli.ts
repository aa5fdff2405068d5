/**
 * The command line, cold: every sample spawns the whole command, scope-engine's and the peer's, with
 * the user's environment as it is, as a user would run them one after another in a shell.
 */
import { existsSync, readdirSync } from 'node:fs';
import { join, relative } from 'node:path';
import type { Comparison, Goal, Side } from './harness';
import { cli, lab } from './lab';
import { hasTool, maxRssMiB, needTools, runCommand, Skip } from './spawn';

/** A side that spawns argv; labelled as a user would type it. */
function command(argv: string[], env?: NodeJS.ProcessEnv): Side {
  const label = argv[0] === process.execPath ? ['scope-engine', ...argv.slice(2)].join(' ') : argv.join(' ');
  return { label, op: () => runCommand(argv, { env }) };
}

const goalRatio = (max: number): Goal => ({ kind: 'ratio', max });

/** The peer of the docker rows. */
const DOCKER_EXEC = ['docker', 'exec', 'lab-web', 'true'];

/** bench/floor/exec-docker.ts, built beside this file; its label as the user would type it. */
const FLOOR = join(__dirname, 'floor', 'exec-docker.js');
const FLOOR_SHOWN = `node ${relative(process.cwd(), FLOOR)} lab-web`;

/** `scope-engine exec` into one lab container against that runtime's own exec. */
function execVsPeer(id: string, title: string, key: string, peer: () => Side, goal: Goal): Comparison {
  const c = lab(key);
  return {
    id, title, unit: 'ms', goal,
    async prepare() {
      await c.pid();
      return { ours: command(cli('exec', '--runtime', c.runtime, c.ref, '--', 'true')), peer: peer() };
    },
  };
}

let execIds = 0;

/** ctr refuses an exec ID in use: each sample names its own, chosen before the timer starts. */
function ctrExec(): Side {
  let execId = '';
  return {
    label: 'ctr -n default task exec --exec-id scope-bench-<pid>-<n> lab-ctr true',
    async before() {
      execId = `scope-bench-${process.pid}-${execIds++}`;
    },
    op: () => runCommand(['ctr', '-n', 'default', 'task', 'exec', '--exec-id', execId, 'lab-ctr', 'true']),
  };
}

/**
 * Each runtime's own list command, the ones of the runtimes `ps --runtime all` lists here: a runtime
 * whose tool is missing or fails is left out of the peer's side, and the note says so.
 */
async function listCommands(): Promise<{ argv: string[][]; left: string[] }> {
  const candidates: [string, string[]][] = [['docker', ['docker', 'ps', '-a']], ['podman', ['podman', 'ps', '-a']]];
  // ps shows every user's rootless podman containers too, read from their API sockets.
  const users = existsSync('/run/user') ? readdirSync('/run/user') : [];
  for (const uid of users.filter((u) => existsSync(`/run/user/${u}/podman/podman.sock`))) {
    candidates.push(['podman', ['podman', '--url', `unix:///run/user/${uid}/podman/podman.sock`, 'ps', '-a']]);
  }
  candidates.push(['ctr', ['ctr', '-n', 'default', 'containers', 'ls']], ['nerdctl', ['nerdctl', 'ps', '-a']]);
  candidates.push(hasTool('crictl') ? ['crictl', ['crictl', 'ps', '-a']]
    : ['ctr', ['ctr', '-n', 'k8s.io', 'containers', 'ls']]);
  candidates.push(['lxc', ['lxc', 'list']], ['lxc-ls', ['lxc-ls', '-f']]);
  const argv: string[][] = [];
  const left: string[] = [];
  for (const [tool, cmd] of candidates) {
    if (!hasTool(tool)) {
      left.push(`${cmd.join(' ')} (no ${tool})`);
      continue;
    }
    try {
      await runCommand(cmd, { timeoutMs: 15_000 });
      argv.push(cmd);
    } catch (err) {
      left.push(`${cmd.join(' ')} (${(err as Error).message})`);
    }
  }
  return { argv, left };
}

export function cliComparisons(): Comparison[] {
  const docker = lab('docker');
  const ourDockerExec = () => command(cli('exec', '--runtime', 'docker', 'lab-web', '--', 'true'));
  return [
    {
      id: 'node-start', title: '0 node start: env as is vs NODE_EXTRA_CA_CERTS unset', unit: 'ms',
      goal: { kind: 'report' },
      async prepare() {
        if (!process.env.NODE_EXTRA_CA_CERTS) throw new Skip('NODE_EXTRA_CA_CERTS is not set: nothing skews');
        const { NODE_EXTRA_CA_CERTS: _, ...unset } = process.env;
        return {
          ours: { ...command([process.execPath, '-e', '0']), label: 'node -e 0 (environment as is)' },
          peer: { ...command([process.execPath, '-e', '0'], unset), label: 'node -e 0 (NODE_EXTRA_CA_CERTS unset)' },
          note: 'what every scope-engine CLI row pays for the variable; the rows keep it, as the user has it',
        };
      },
    },
    execVsPeer('exec-docker', '1 exec docker (CLI)', 'docker',
      () => command(DOCKER_EXEC), goalRatio(0.7)),
    execVsPeer('exec-ctr', '2 exec ctr (CLI)', 'ctr', ctrExec, goalRatio(1.0)),
    execVsPeer('exec-lxd', '3 exec LXD (CLI)', 'lxd',
      () => command(['lxc', 'exec', 'lab-lxd', '--', 'true']), goalRatio(1.0)),
    execVsPeer('exec-lxc', '4 exec classic LXC (CLI)', 'lxc',
      () => command(['lxc-attach', '-n', 'lab-lxc', '--', 'true']), goalRatio(2.0)),
    execVsPeer('exec-podman', '5 exec podman (CLI)', 'podman',
      () => command(['podman', 'exec', 'lab-pod', 'true']), { kind: 'report' }),
    {
      id: 'exec-auto', title: '6 exec, runtime auto vs docker (CLI)', unit: 'ms', goal: goalRatio(1.2),
      async prepare() {
        await docker.pid();
        return { ours: command(cli('exec', 'lab-web', '--', 'true')), peer: ourDockerExec() };
      },
    },
    {
      id: 'resolve-docker', title: '7 resolve docker (CLI)', unit: 'ms', goal: goalRatio(3.0),
      async prepare() {
        await docker.pid();
        return {
          ours: command(cli('resolve', '--runtime', 'docker', 'lab-web')),
          peer: command(['docker', 'inspect', '-f', '{{.State.Pid}}', 'lab-web']),
        };
      },
    },
    {
      id: 'ps-all', title: '8 ps, every runtime (CLI)', unit: 'ms', goal: goalRatio(1.0),
      async prepare() {
        const { argv, left } = await listCommands();
        if (!argv.length) throw new Skip(`no runtime's list command works here: ${left.join('; ')}`);
        return {
          ours: command(cli('ps', '--runtime', 'all')),
          peer: {
            label: argv.map((a) => a.join(' ')).join('; '),
            async op() {
              for (const a of argv) await runCommand(a);
            },
          },
          note: left.length ? `left out of the peer's side: ${left.join('; ')}` : undefined,
        };
      },
    },
    {
      id: 'floor-docker', title: '13 floor: least Node exec vs docker exec', unit: 'ms', goal: { kind: 'report' },
      async prepare() {
        needTools('nsenter');
        await docker.pid();
        return {
          ours: { ...command([process.execPath, FLOOR, 'lab-web']), label: FLOOR_SHOWN },
          peer: command(DOCKER_EXEC),
          note: 'a Node program that does only one inspect and spawns nsenter (bench/floor/exec-docker.ts): no CLI ' +
            'run by Node can go below this ratio, nor below its memory',
        };
      },
    },
    peakVsDockerExec('floor-rss', '13 floor: peak memory, least Node exec vs docker exec', { kind: 'report' },
      () => ({ argv: [process.execPath, FLOOR, 'lab-web'], label: FLOOR_SHOWN }), ['nsenter']),
    peakVsDockerExec('rss-exec-docker', '10 peak memory, exec docker (CLI)', { kind: 'absolute', max: 40 },
      () => ({ argv: cli('exec', '--runtime', 'docker', 'lab-web', '--', 'true'), label: ourDockerExec().label })),
  ];
}

/** The peak memory of `ours()` (made while preparing) against docker exec's, by GNU time. */
function peakVsDockerExec(id: string, title: string, goal: Goal, ours: () => { argv: string[]; label: string },
  tools: string[] = []): Comparison {
  return {
    id, title, unit: 'MiB', goal,
    async prepare() {
      if (!existsSync('/usr/bin/time')) throw new Skip('no /usr/bin/time (Debian package "time")');
      needTools(...tools);
      await lab('docker').pid();
      const mine = ours();
      return {
        ours: { label: `max RSS of ${mine.label}`, sample: () => maxRssMiB(mine.argv) },
        peer: { label: `max RSS of ${DOCKER_EXEC.join(' ')}`, sample: () => maxRssMiB(DOCKER_EXEC) },
        note: 'GNU time %M: the largest RSS of the command or a child it waited for; dockerd\'s share is not counted',
      };
    },
  };
}
