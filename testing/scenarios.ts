/**
 * The conformance scenarios: what every adapter, built-in or third-party, must get right, each
 * checked against a real container through the engine and the native core. A scenario passes,
 * fails with the reason, or is skipped saying why (no stopped container given, a runtime with no IDs).
 */
import { readlinkSync } from 'node:fs';
import { execInTarget } from '../native/exec';
import { ContainerFs } from '../native/files';
import { ipcRequest } from '../native/ipc';
import type { ScopeError } from '../base/errors';
import { writeDconf } from '../core/flows/dconf';
import { runPayload } from '../core/flows/run';
import { INSTALL_BASES } from '../core/payload/install';
import { check, expectCode, inside, skip, stopLoader, withTarget, type Outcome, type Scenario, type ScenarioContext } from './context';
import { HOSTILE } from './hostile';

export { skip, type LabRow, type Outcome, type Scenario, type ScenarioContext } from './context';

const BASICS: Scenario[] = [
  {
    id: 'resolve-name', title: 'resolve by name',
    async run(ctx) {
      const c = await ctx.engine.resolve(ctx.row.runtime, ctx.row.running);
      check(c.pid > 0 && readlinkSync(`/proc/${c.pid}/exe`), `PID ${c.pid} is no live process`);
    },
  },
  {
    id: 'resolve-id', title: 'resolve by ID prefix',
    async run(ctx) {
      const c = await ctx.engine.resolve(ctx.row.runtime, ctx.row.running);
      if (c.id === c.name) return skip('this runtime has no IDs apart from names');
      const prefix = c.id.slice(0, 12);
      const again = await ctx.engine.resolve(ctx.row.runtime, prefix);
      check(again.pid === c.pid, `prefix ${prefix} gave PID ${again.pid}, the name ${c.pid}`);
    },
  },
  {
    id: 'unknown', title: 'unknown container',
    run: (ctx) => expectCode(ctx.engine.resolve(ctx.row.runtime, 'scope-engine-matrix-no-such-container'), 'E_NOT_FOUND'),
  },
  {
    id: 'stopped', title: 'stopped container',
    async run(ctx) {
      if (!ctx.row.stopped) return skip('no stopped container given');
      await expectCode(ctx.engine.resolve(ctx.row.runtime, ctx.row.stopped), 'E_NOT_RUNNING');
    },
  },
  {
    id: 'list', title: 'list',
    async run(ctx) {
      const all = await ctx.engine.runtime(ctx.row.runtime).list();
      const c = all.find((x) => x.name === ctx.row.running);
      check(c && c.pid > 0, `${ctx.row.running} is not listed with a PID`);
    },
  },
  {
    id: 'exec-ns', title: 'exec in its namespaces',
    run: (ctx) => withTarget(ctx, ctx.row.running, async (t) => {
      const names = ['mnt', 'pid', 'ipc', 'uts', 'net', 'cgroup', 'user'];
      const r = await inside(ctx, t, names.map((n) => `readlink /proc/self/ns/${n}`).join(';'));
      check(r.code === 0, `exit ${r.code}: ${r.stderr}`);
      const expected = names.map((n) => readlinkSync(`/proc/${t.pid}/ns/${n}`));
      check(r.stdout.trim() === expected.join('\n'), `namespaces ${r.stdout.trim().replace(/\n/g, ' ')} != target's ${expected.join(' ')}`);
    }),
  },
  {
    id: 'idmapped-write', title: 'ID-mapped write (root and non-root)',
    run: (ctx) => withTarget(ctx, ctx.row.running, async (t) => {
      const fs = new ContainerFs(t);
      // /tmp, or /dev/shm in a container whose root (and so /tmp) is read-only.
      const readOnly = await fs.write('/tmp/scope-engine-matrix.probe', '').then(() => fs.unlink('/tmp/scope-engine-matrix.probe'),
        (e: ScopeError) => e.details?.errno === 'EROFS');
      const dir = readOnly ? '/dev/shm' : '/tmp';
      for (const uid of [0, 1000]) {
        const path = `${dir}/scope-engine-matrix.${uid}`;
        await fs.write(path, `written for ${uid}\n`, { uid, gid: uid, mode: 0o600 });
        const r = await inside(ctx, t, `cat ${path} && stat -c %u:%g ${path} && rm ${path}`, uid, uid);
        check(r.code === 0, `uid ${uid} could not read or remove it: ${r.stderr.trim()}`);
        check(r.stdout === `written for ${uid}\n${uid}:${uid}\n`, `uid ${uid} saw ${JSON.stringify(r.stdout)}`);
      }
    }),
  },
  {
    id: 'run', title: 'run with the default payload',
    async run(ctx) {
      await withTarget(ctx, ctx.row.running, (t) => inside(ctx, t, `rm -rf ${INSTALL_BASES.join(' ')}`));
      const r = await runPayload(ctx.engine, ctx.row.runtime, ctx.row.running, { detach: true, env: { SCOPE_PROBE_PERIOD_MS: '100' } });
      ctx.state.loaderPid = r.loader.pid;
      check(!r.install.reused, 'a fresh install was reported as reused');
      const report = `${r.install.dir}/scope-probe.${r.target.nsPid}.jsonl`;
      await withTarget(ctx, ctx.row.running, async (t) => {
        const fs = new ContainerFs(t);
        for (let i = 0; i < 50; i++) {
          const lines = (await fs.read(report).catch(() => Buffer.from(''))).toString().split('\n').filter(Boolean);
          if (lines.length >= 2) {
            check(JSON.parse(lines[0]).pid === r.target.nsPid, 'the probe reports on another PID');
            return;
          }
          await new Promise((res) => setTimeout(res, 100));
        }
        throw new Error(`no reports in ${report}`);
      });
    },
  },
  {
    id: 'detach-reattach', title: 'detach and reattach',
    async run(ctx) {
      if (!ctx.state.loaderPid) return skip('run did not start the payload');
      for (const attach of [false, true]) {
        const r = await writeDconf(ctx.engine, ctx.row.runtime, ctx.row.running, { attach, waitMs: 3000 });
        check(r.applied, `${r.path} was not read by the payload`);
      }
    },
  },
  {
    id: 'ipc', title: 'IPC status round trip',
    async run(ctx) {
      if (!ctx.state.loaderPid) return skip('run did not start the payload');
      await withTarget(ctx, ctx.row.running, async (t) => {
        const a = await ipcRequest(t, { req: 'status' }, 3000);
        check(a.status === 200 && (a.data as { attached?: boolean }).attached === true, `answer ${a.status} ${JSON.stringify(a.data)}`);
      });
      await stopLoader(ctx);
    },
  },
  {
    id: 'no-shell', title: 'container without a shell',
    async run(ctx) {
      if (!ctx.row.noshell) return skip('no shell-less container given');
      const ref = ctx.row.noshell;
      await withTarget(ctx, ref, async (t) => {
        await expectCode(execInTarget(t, { argv: ['sh', '-c', 'true'] }), 'E_EXEC_NOT_FOUND');
        await inside(ctx, t, `rm -rf ${INSTALL_BASES.join(' ')}`);
      });
      const r = await runPayload(ctx.engine, ctx.row.runtime, ref, { detach: true, env: { SCOPE_PROBE_PERIOD_MS: '100' } });
      ctx.state.loaderPid = r.loader.pid;
      try {
        await withTarget(ctx, ref, async (t) => {
          const a = await ipcRequest(t, { req: 'status' }, 3000);
          check(a.status === 200, `IPC answer ${a.status}`);
        });
      } finally {
        await stopLoader(ctx);
      }
    },
  },
];

/** Every scenario, in the order of the table's columns: the basics, then the hostile-container suite. */
export const SCENARIOS: Scenario[] = [...BASICS, ...HOSTILE];

/** Runs every scenario on one row, in order; a thrown error is that cell's failure, never the row's end. */
export async function runScenarios(ctx: ScenarioContext, only?: string[]): Promise<Record<string, Outcome>> {
  const out: Record<string, Outcome> = {};
  for (const s of SCENARIOS) {
    if (only && !only.includes(s.id)) continue;
    try {
      out[s.id] = (await s.run(ctx)) ?? { status: 'pass' };
    } catch (err) {
      out[s.id] = { status: 'fail', reason: (err as Error).message.split('\n')[0] };
    }
  }
  await stopLoader(ctx);
  return out;
}
