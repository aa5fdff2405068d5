/**
 * What a runtime's own tools say about a lab row's container (LabRow.idOf and pidOf): the answer
 * the scenarios and the integration tests hold the adapter's to, got without the adapter.
 */
import { runTool } from '../base/tool';
import type { LabRow, ToolQuery } from './context';
import { runOnHost, toolsOnHost } from './host-tools';

/** The placeholders of a ToolQuery. */
export interface ToolVars {
  name: string;
  id: string;
}

const fill = (s: string, v: ToolVars, quote: (x: string) => string) =>
  s.replace(/\{(name|id)\}/g, (_, k: keyof ToolVars) => quote(v[k]));
const literal = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/** Runs the query's command (execFile, no shell) and cuts its answer out of what it printed. */
export async function askTool(q: ToolQuery, v: ToolVars): Promise<string> {
  const [cmd, ...args] = q.argv.map((a) => fill(a, v, (x) => x));
  const out = (await (toolsOnHost() ? hostTool([cmd, ...args]) : runTool(cmd, args, { timeoutMs: 30_000 }))).trim();
  if (!q.match) return out;
  const m = new RegExp(fill(q.match, v, literal), 'm').exec(out);
  if (!m?.[1]) throw new Error(`${cmd} ${args.join(' ')} printed nothing matching ${q.match}: ${out.slice(0, 300)}`);
  return m[1];
}

/** The container's full ID as the row's idOf prints it (its name when the row has none). */
export async function ownId(row: LabRow, name: string): Promise<string> {
  return row.idOf ? askTool(row.idOf, { name, id: name }) : name;
}

/** The host PID the row's pidOf prints for the container with full ID `id`; undefined without a pidOf. */
export async function ownPid(row: LabRow, name: string, id: string): Promise<number | undefined> {
  if (!row.pidOf) return undefined;
  const said = await askTool(row.pidOf, { name, id });
  const pid = Number(said);
  if (!Number.isInteger(pid) || pid <= 0) throw new Error(`${row.pidOf.argv[0]} gave "${said}" as the PID of ${name}`);
  return pid;
}

/** The tool run on the host (the matrix runs in the engine's image): what it printed, or an error with its stderr. */
async function hostTool(argv: string[]): Promise<string> {
  const r = await runOnHost(argv, 30_000);
  if (r.code !== 0) throw new Error(`${argv.join(' ')} on the host: exit ${r.code}: ${r.stderr.trim().slice(0, 300)}`);
  return r.stdout;
}
