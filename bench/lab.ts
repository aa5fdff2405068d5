/**
 * The lab's containers the benchmark enters (test/lab/setup.sh makes them), and for each the host
 * PID as the runtime's own tool reports it: the peers' side of every comparison starts from there.
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LabRow } from '../testing/context';
import { loadLab } from '../testing/matrix';
import { ownId, ownPid } from '../testing/own';
import { needTools, Skip } from './spawn';

/** The built CLI, run as a user runs it: a new Node process with the user's environment as it is. */
export const CLI = join(__dirname, '..', 'cli', 'main.js');

export function cli(...args: string[]): string[] {
  if (!existsSync(CLI)) throw new Skip(`${CLI} is not built (npm run build)`);
  return [process.execPath, CLI, ...args];
}

export interface LabContainer {
  /** Names the comparison: docker, podman, ctr, lxd, lxc, cri. */
  key: string;
  /** scope-engine's runtime adapter for it. */
  runtime: string;
  /** The name scope-engine and the peer tool know it by. */
  ref: string;
  /** The peer tool the PID comes from. */
  tool: string;
  /** Its host PID from that tool; Skip when the tool or the running container is missing. */
  pid(): Promise<number>;
}

/**
 * The rows of the lab file (test/lab/matrix.json, the one list of the lab's containers) the benchmark
 * enters, by the key each comparison names: each row's running container, and its PID from the
 * runtime's own tool as the row's pidOf asks it (testing/own.ts), as the matrix checks resolving.
 */
const ROWS: Record<string, string> = {
  docker: 'docker', podman: 'podman', ctr: 'containerd - ctr', lxd: 'lxc (LXD)', lxc: 'lxc (classic)',
  cri: 'cri (containerd, pods)',
};

function container(key: string, row: LabRow): LabContainer {
  const query = row.pidOf;
  if (!query) throw new Error(`test/lab/matrix.json: row "${row.label}" has no pidOf for the benchmark`);
  return {
    key, runtime: row.runtime, ref: row.running, tool: query.argv.slice(0, 3).join(' '),
    async pid() {
      needTools(query.argv[0]);
      try {
        return (await ownPid(row, row.running, await ownId(row, row.running)))!;
      } catch (err) {
        throw new Skip(`${row.running} (${row.label}) is not running: ${(err as Error).message}`);
      }
    },
  };
}

export const LAB: LabContainer[] = Object.entries(ROWS).map(([key, label]) => {
  const row = loadLab().find((r) => r.label === label);
  if (!row) throw new Error(`test/lab/matrix.json has no row "${label}"`);
  return container(key, row);
});

export function lab(key: string): LabContainer {
  return LAB.find((c) => c.key === key)!;
}
