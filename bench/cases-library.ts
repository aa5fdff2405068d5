/**
 * Library mode, in this process through the engine's API: engines are built (and a plugin
 * handshaken) while preparing, so that a sample is the call alone, as in a long-lived program.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import '../adapters';
import { createEngine, type Engine } from '../core/index';
import { openContainerTarget } from '../core/flows/target';
import { execInTarget } from '../native/exec';
import type { Comparison } from './harness';
import { LAB, type LabContainer } from './lab';
import { needTools, runCommand, Skip } from './spawn';

/** The docker adapter itself behind the plugin protocol (bench/docker-plugin): only the protocol differs. */
const PLUGIN = join(__dirname, '..', '..', 'bench', 'docker-plugin', 'plugins.json');
const PLUGIN_MAIN = join(__dirname, 'docker-plugin', 'main.js');

/** One engine with the built-ins for every library comparison, built on first need. */
export class Engines {
  private builtin?: Promise<Engine>;
  private readonly all: Promise<Engine>[] = [];

  shared(): Promise<Engine> {
    this.builtin ??= this.make();
    return this.builtin;
  }

  make(plugins?: string[]): Promise<Engine> {
    const e = createEngine({ plugins });
    this.all.push(e);
    return e;
  }

  async close(): Promise<void> {
    await Promise.allSettled(this.all.map(async (e) => (await e).close()));
  }
}

/** The engine's PID must be the tool's, or the two sides would not enter the same process. */
async function samePid(engine: Engine, runtime: string, ref: string, pid: number, who: string): Promise<void> {
  const found = (await engine.resolve(runtime, ref)).pid;
  if (found !== pid) throw new Error(`${who} resolves ${ref} to PID ${found}, the runtime's tool to ${pid}`);
}

const SHOWN: Record<string, string> = { lxd: 'LXD', lxc: 'classic LXC' };

function execVsNsenter(c: LabContainer, engines: Engines): Comparison {
  return {
    id: `lib-exec-${c.key}`, title: `11 library exec ${SHOWN[c.key] ?? c.key}`,
    unit: 'ms', goal: { kind: 'ratio', max: 1.0 },
    async prepare() {
      needTools('nsenter');
      const pid = await c.pid();
      const engine = await engines.shared();
      await samePid(engine, c.runtime, c.ref, pid, `the ${c.runtime} adapter`);
      return {
        ours: {
          label: `openContainerTarget(engine, '${c.runtime}', '${c.ref}') + execInTarget(['true']) + close`,
          async op() {
            const { target } = await openContainerTarget(engine, c.runtime, c.ref);
            try {
              const r = await execInTarget(target, { argv: ['true'] });
              if (r.code !== 0) throw new Error(`true exited ${r.code ?? r.signal}: ${r.stderr.trim()}`);
            } finally {
              target.close();
            }
          },
        },
        peer: {
          label: `spawn nsenter -t ${pid} -a true (PID from ${c.tool}, untimed)`,
          op: () => runCommand(['nsenter', '-t', String(pid), '-a', 'true']),
        },
      };
    },
  };
}

function pluginVsBuiltin(engines: Engines): Comparison {
  return {
    id: 'lib-plugin', title: '12 library resolve, plugin vs built-in', unit: 'ms', goal: { kind: 'difference', max: 1 },
    async prepare() {
      if (!existsSync(PLUGIN) || !existsSync(PLUGIN_MAIN)) {
        throw new Skip(`no docker plugin built (${PLUGIN_MAIN}; npm run build)`);
      }
      const pid = await LAB[0].pid();
      const builtin = await engines.shared();
      const withPlugin = await engines.make([PLUGIN]);
      // The first call starts the plugin and handshakes; that is set-up, not the call compared.
      await samePid(withPlugin, 'docker-plugin', 'lab-web', pid, 'the docker adapter as a plugin');
      await samePid(builtin, 'docker', 'lab-web', pid, 'the docker adapter');
      const plugin = withPlugin.runtime('docker-plugin');
      const docker = builtin.runtime('docker');
      return {
        ours: { label: "engine.runtime('docker-plugin').resolve('lab-web'): the docker adapter as a handshaken plugin",
          op: async () => { await plugin.resolve('lab-web'); } },
        peer: { label: "engine.runtime('docker').resolve('lab-web')",
          op: async () => { await docker.resolve('lab-web'); } },
        note: 'the same adapter on both sides (bench/docker-plugin serves the built-in): the difference is the ' +
          'plugin protocol, a gRPC call over a unix socket',
      };
    },
  };
}

export function libraryComparisons(engines: Engines): Comparison[] {
  return [...LAB.map((c) => execVsNsenter(c, engines)), pluginVsBuiltin(engines)];
}
