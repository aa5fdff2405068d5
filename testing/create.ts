/**
 * `matrix --create IMAGE`: fixture containers the matrix makes itself, and removes afterwards, with
 * each runtime's own command (execFile, never a shell): a running one (`/bin/sleep` in IMAGE) and
 * a stopped one. Runtimes whose containers are not made from images (LXC, LXD) and third-party
 * adapters are left to the lab file. No shell-less container can be made from an arbitrary image.
 */
import { randomBytes } from 'node:crypto';
import { runTool } from '../base/tool';
import type { LabRow } from './scenarios';

interface Maker {
  create(image: string, name: string, running: boolean): Promise<string>;
  remove(names: string[]): Promise<void>;
  /** How the runtime's own tool tells the PID and ID of what it made (see LabRow). */
  own: Pick<LabRow, 'pidOf' | 'idOf'>;
}

async function run(cmd: string, args: string[]): Promise<string> {
  return (await runTool(cmd, args, { timeoutMs: 60_000 })).trim();
}

/** docker and podman: the same words. */
const dockerLike = (tool: string): Maker => ({
  async create(image, name, running) {
    await run(tool, running ? ['run', '-d', '--name', name, '--network', 'none', image, '/bin/sleep', '1000000']
      : ['create', '--name', name, '--network', 'none', image, '/bin/true']);
    return name;
  },
  async remove(names) {
    await run(tool, ['rm', '-f', ...names]);
  },
  own: {
    pidOf: { argv: [tool, 'container', 'inspect', '-f', '{{.State.Pid}}', '{id}'] },
    idOf: { argv: [tool, 'container', 'inspect', '-f', '{{.Id}}', '{name}'] },
  },
});

/** ctr and nerdctl: containerd containers in `default`; nerdctl's carry its name label. */
const containerd = (nerdctl: boolean): Maker => ({
  async create(image, name, running) {
    const id = nerdctl ? randomBytes(32).toString('hex') : name;
    const labels = nerdctl ? ['--label', `nerdctl/name=${name}`, '--label', 'nerdctl/namespace=default'] : [];
    if (running) await run('ctr', ['-n', 'default', 'run', '-d', ...labels, image, id, '/bin/sleep', '1000000']);
    else await run('ctr', ['-n', 'default', 'containers', 'create', ...labels, image, id, '/bin/true']);
    return name;
  },
  async remove(names) {
    const all = await run('ctr', ['-n', 'default', 'containers', 'ls']);
    for (const line of all.split('\n').slice(1)) {
      const id = line.split(/\s+/)[0];
      const info = nerdctl ? await run('ctr', ['-n', 'default', 'containers', 'info', id]).catch(() => '') : '';
      if (!names.includes(id) && !names.some((n) => info.includes(`"nerdctl/name": "${n}"`))) continue;
      // Forced, ctr kills the task with SIGKILL and waits for containerd's word that it exited before
      // deleting it (WithProcessKill). A container with no task (the stopped one) makes it fail: ignored.
      await run('ctr', ['-n', 'default', 'task', 'rm', '-f', id]).catch(() => undefined);
      await run('ctr', ['-n', 'default', 'containers', 'rm', id]).catch(() => undefined);
    }
  },
  own: {
    pidOf: { argv: ['ctr', '-n', 'default', 'task', 'ls'], match: '^{id}\\s+(\\d+)\\s+RUNNING' },
    idOf: {
      argv: ['ctr', '-n', 'default', 'containers', 'ls', '-q', `${nerdctl ? 'labels."nerdctl/name"' : 'id'}=={name}`],
    },
  },
});

const MAKERS: Record<string, Maker> = {
  docker: dockerLike('docker'), podman: dockerLike('podman'), ctr: containerd(false), nerdctl: containerd(true),
};

export interface Created {
  rows: LabRow[];
  /** Rows left as the lab file gave them (no maker for their runtime). */
  kept: LabRow[];
  cleanup(): Promise<void>;
}

/**
 * One row per runtime that has a maker, with new containers made from `image` (the rows of the
 * lab file describe their own containers, a user namespace say, which new ones would not have).
 */
export async function createFixtures(lab: LabRow[], image: string): Promise<Created> {
  const made: { maker: Maker; names: string[] }[] = [];
  const out: LabRow[] = [];
  const kept: LabRow[] = [];
  const cleanup = async () => {
    for (const m of made) await m.maker.remove(m.names).catch(() => undefined);
  };
  try {
    const done = new Set<string>();
    for (const t of lab) {
      const maker = MAKERS[t.runtime];
      if (!maker || t.plugins) {
        kept.push(t);
        continue;
      }
      if (done.has(t.runtime)) continue;
      done.add(t.runtime);
      const base = `scope-matrix-${randomBytes(3).toString('hex')}`;
      const entry = { maker, names: [] as string[] };
      made.push(entry);
      const ctrImage = t.runtime === 'ctr' || t.runtime === 'nerdctl' ? qualified(image) : image;
      entry.names.push(await maker.create(ctrImage, `${base}-running`, true));
      entry.names.push(await maker.create(ctrImage, `${base}-stopped`, false));
      out.push({ label: `${t.runtime} (--create ${image})`, runtime: t.runtime, running: `${base}-running`,
        stopped: `${base}-stopped`, ...maker.own });
    }
  } catch (err) {
    await cleanup();
    throw err;
  }
  return { rows: [...out, ...kept], kept, cleanup };
}

/** containerd names images fully: scope-lab-busybox is docker.io/library/scope-lab-busybox:latest. */
function qualified(image: string): string {
  const withTag = /:[^/]+$/.test(image) ? image : `${image}:latest`;
  if (withTag.split('/').length === 1) return `docker.io/library/${withTag}`;
  return withTag;
}
