/**
 * The conformance scenarios: what every adapter, built-in or third-party, must get right, each
 * checked against a real container through the engine and the native core. A scenario passes,
 * fails with the reason, or is skipped saying why (no stopped container given, a runtime with no IDs).
 */
import { readlinkSync } from 'node:fs';
import { execInTarget } from '../native/exec';
import { ContainerFs } from '../native/files';
import { ipcRequest } from '../native/ipc';
import { NAMESPACES } from '../native/target';
import type { ScopeError } from '../base/errors';
import { writeDconf } from '../core/flows/dconf';
import { runPayload } from '../core/flows/run';
import { INSTALL_BASES } from '../core/payload/install';
import { check, expectCode, firstLines, inside, skip, stopLoader, within, withTarget, type Outcome, type Scenario,
  type ScenarioContext } from './context';
import { ownId, ownPid } from './own';
import { DOCTOR } from './doctor';
import { HOSTILE } from './hostile';

export { skip, type LabRow, type Outcome, type Scenario, type ScenarioContext, type ToolQuery } from './context';

/** The probe reports every 100 ms, so that a scenario sees reports soon. */
const PERIOD = { SCOPE_PROBE_PERIOD_MS: '100' };

const BASICS: Scenario[] = [
  {
    id: 'resolve-name', title: 'resolve by name',
    async run(ctx) {
      const c = await ctx.engine.resolve(ctx.row.runtime, ctx.row.running);
      check(c.pid > 0 && readlinkSync(`/proc/${c.pid}/exe`), `PID ${c.pid} is no live process`);
      const own = await ownPid(ctx.row, ctx.row.running, await ownId(ctx.row, ctx.row.running));
      check(own === undefined || c.pid === own, `PID ${c.pid}, where ${ctx.row.pidOf?.argv[0]} says ${own}`);
    },
  },
  {
    id: 'resolve-id', title: 'resolve by ID prefix',
    async run(ctx) {
      const c = await ctx.engine.resolve(ctx.row.runtime, ctx.row.running);
      if (!ctx.row.idOf && c.id === c.name) return skip('this runtime has no IDs apart from names');
      // The ID the runtime's own tool gives the container (else the adapter's), and of a hex ID the
      // first 12 characters, as docker ps shows it. An ID that is a name (ctr's) is taken whole: its
      // beginnings begin other names too (lab-ctr, lab-ctr-stopped), and the container with exactly
      // that ID must win over the others it is a prefix of.
      const id = ctx.row.idOf ? await ownId(ctx.row, ctx.row.running) : c.id;
      const prefix = /^[0-9a-f]{13,}$/.test(id) ? id.slice(0, 12) : id;
      const again = await ctx.engine.resolve(ctx.row.runtime, prefix);
      check(again.id === id, `prefix ${prefix} named ${again.id}, not ${id}`);
      // The PID the runtime's own tool reports for the container with that ID; without a pidOf,
      // the one resolving by name gave, whose ID the prefix was taken from.
      const own = await ownPid(ctx.row, ctx.row.running, id);
      const expected = own ?? c.pid;
      const said = own === undefined ? 'resolving by name gave' : `${ctx.row.pidOf!.argv[0]} says`;
      check(again.pid === expected, `prefix ${prefix} gave PID ${again.pid}; for ${id} ${said} ${expected}`);
    },
  },
  {
    id: 'unknown', title: 'unknown container',
    run: (ctx) => expectCode(ctx.engine.resolve(ctx.row.runtime, 'scope-engine-matrix-no-such-container'),
      'E_NOT_FOUND'),
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
      // No runtime here makes a time namespace, and a kernel before 5.6 has no /proc/self/ns/time.
      const names = NAMESPACES.filter((n) => n !== 'time');
      const r = await inside(ctx, t, names.map((n) => `readlink /proc/self/ns/${n}`).join(';'));
      check(r.code === 0, `exit ${r.code}: ${r.stderr}`);
      const expected = names.map((n) => readlinkSync(`/proc/${t.pid}/ns/${n}`));
      const seen = r.stdout.trim();
      check(seen === expected.join('\n'), `namespaces ${seen.replace(/\n/g, ' ')} != target's ${expected.join(' ')}`);
    }),
  },
  {
    id: 'idmapped-write', title: 'ID-mapped write (root and non-root)',
    run: (ctx) => withTarget(ctx, ctx.row.running, async (t) => {
      const fs = new ContainerFs(t);
      // /tmp, or /dev/shm in a container whose root (and so /tmp) is read-only.
      const probe = '/tmp/scope-engine-matrix.probe';
      const readOnly = await fs.write(probe, '').then(() => fs.unlink(probe),
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
      // In the foreground, so that its reports come as they are written, on its stdout (a detached
      // payload's go to its file alone); it is left running for the scenarios after this one.
      const r = await runPayload(ctx.engine, ctx.row.runtime, ctx.row.running, { env: PERIOD });
      ctx.state.loader = { pid: r.loader.pid, process: r.process, by: 'run' };
      r.process.child.stderr?.resume();
      check(!r.install.reused, 'a fresh install was reported as reused');
      const lines = await within(10_000, 'two reports from the probe', firstLines(r.process, 2));
      check(JSON.parse(lines[0]).pid === r.target.nsPid, 'the probe reports on another PID');
      // It writes each report to its file before printing it: both are in the file by now.
      const report = `${r.install.dir}/scope-probe.${r.target.nsPid}.jsonl`;
      const saved = await withTarget(ctx, ctx.row.running, async (t) => String(await new ContainerFs(t).read(report)));
      check(saved.startsWith(`${lines[0]}\n${lines[1]}\n`), `${report} does not begin with the reports printed`);
    },
  },
  {
    id: 'detach-reattach', title: 'detach and reattach',
    async run(ctx) {
      if (!ctx.state.loader) return skip('run did not start the payload');
      for (const attach of [false, true]) {
        const r = await writeDconf(ctx.engine, ctx.row.runtime, ctx.row.running, { attach, waitMs: 3000 });
        check(r.applied, `${r.path} was not read by the payload`);
      }
    },
  },
  {
    id: 'ipc', title: 'IPC status round trip',
    async run(ctx) {
      if (!ctx.state.loader) return skip('run did not start the payload');
      await withTarget(ctx, ctx.row.running, async (t) => {
        const a = await ipcRequest(t, { req: 'status' }, 3000);
        const attached = (a.data as { attached?: boolean }).attached;
        check(a.status === 200 && attached === true, `answer ${a.status} ${JSON.stringify(a.data)}`);
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
      const r = await runPayload(ctx.engine, ctx.row.runtime, ref, { detach: true, env: PERIOD });
      ctx.state.loader = { pid: r.loader.pid, process: r.process, by: 'no-shell' };
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

/** Every scenario, in the order of the table's columns: the basics, the hostile-container suite, the doctor. */
export const SCENARIOS: Scenario[] = [...BASICS, ...HOSTILE, DOCTOR];

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
  // A loader a failed scenario left running; one that will not end fails the scenario that started it.
  const by = ctx.state.loader?.by;
  await stopLoader(ctx).catch((err: Error) => {
    if (by && out[by]?.status !== 'fail') out[by] = { status: 'fail', reason: err.message };
  });
  return out;
}
