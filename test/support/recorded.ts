/**
 * The adapters' recordings under fixtures/<runtime>/: each file holds one call an adapter made to
 * the lab's real runtime, the exchanges that call caused (replayed by replay.ts, grpc-replay.ts or
 * tool-replay.ts), and what the runtime's own tool answered about the same thing at the same time
 * (test/lab/record-fixtures.ts). The unit tests loop over every file, make the call against the
 * replay, and hold the adapter to the tool's answer.
 */
import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ScopeError } from '../../base/errors';
import type { Container, ContainerRuntime, ProbeResult } from '../../core/runtime';
import { FIXTURES } from './replay';

/** Directories of fixtures/ that are adapter recordings, each replayed by its runtime's unit test. */
export const REPLAYED = ['containerd', 'cri', 'docker', 'lxc-classic', 'lxd', 'podman'];

/** Directories of fixtures/ that are something else, and the tests that use them. */
export const NOT_RECORDINGS: Record<string, string> = {
  'oci-specs': 'OCI specs for the seccomp profile tests (test/unit/seccomp-profile.test.ts)',
  plugins: 'example and faulty plugins (the plugin and fault tests)',
  doctor: 'lab containers\' facts and what the probe got in each (test/unit/doctor-verdicts.test.ts)',
};

/** The adapter call a file recorded. */
export interface RecordedCall {
  /** The built-in adapter that made it: containerd's directory holds both ctr's and nerdctl's. */
  adapter: string;
  method: 'probe' | 'list' | 'resolve';
  ref?: string;
}

/** A container as the runtime's own tool told it; `pid` 0 when it is not running. */
export interface OwnContainer {
  id: string;
  name: string;
  pid: number;
}

/**
 * The runtime's own answer, from its command-line tool (never through the adapter): its version
 * (probe), every container (list), the one container a reference names (resolve), or the IDs a
 * reference could mean when it names no container (none) or several (ambiguous).
 */
export type OwnAnswer = { said: string } & (
  { version: string } | { containers: OwnContainer[] } | { container: OwnContainer } | { candidates: string[] });

export interface Recording {
  /** The file's name, e.g. resolve-name.json. */
  file: string;
  recordedFrom: string;
  call: RecordedCall;
  own: OwnAnswer;
  exchanges: any[];
}

/** Every recording of `dir`, in name order; a file the recorder did not write (no call or own answer) is an error. */
export function recordings(dir: string): Recording[] {
  return readdirSync(join(FIXTURES, dir)).filter((f) => f.endsWith('.json')).sort().map((file) => {
    const r = JSON.parse(readFileSync(join(FIXTURES, dir, file), 'utf8')) as Omit<Recording, 'file'>;
    if (!r.call?.method || !r.own || !Array.isArray(r.exchanges)) {
      throw new Error(`fixtures/${dir}/${file} names no call or own answer: record it again (npm run record-fixtures)`);
    }
    return { file, ...r };
  });
}

/** What the call gave: its value, or the ScopeError it failed with. */
export type Outcome = { value: unknown; error?: undefined } | { error: ScopeError; value?: undefined };

export async function callAdapter(adapter: ContainerRuntime, call: RecordedCall): Promise<Outcome> {
  try {
    if (call.method === 'probe') return { value: await adapter.probe() };
    if (call.method === 'list') return { value: await adapter.list() };
    return { value: await adapter.resolve(call.ref!) };
  } catch (err) {
    if (!(err instanceof ScopeError)) throw err;
    return { error: err };
  }
}

/** A test's title for a recording: the call, and what the tool said it should give. */
export function titleOf(r: Recording): string {
  const call = `${r.call.method}(${r.call.ref === undefined ? '' : JSON.stringify(r.call.ref)})`;
  const own = r.own;
  const expected = 'version' in own ? `version ${own.version}`
    : 'containers' in own ? `${own.containers.length} containers`
      : 'container' in own ? (own.container.pid ? `PID ${own.container.pid}` : 'E_NOT_RUNNING')
        : own.candidates.length ? 'E_AMBIGUOUS' : 'E_NOT_FOUND';
  return `${r.file}: ${call} gives ${expected}, as ${own.said.split(' ')[0]} says`;
}

const row = (c: { id: string; name: string; pid: number }) => `${c.id} ${c.name} ${c.pid}`;

/** Holds the outcome to the runtime's own answer. */
export function agree(out: Outcome, own: OwnAnswer): void {
  const failed = out.error ? `${out.error.code}: ${out.error.message}` : 'no error';
  if ('candidates' in own) {
    expect(out.error?.code, failed).to.equal(own.candidates.length ? 'E_AMBIGUOUS' : 'E_NOT_FOUND');
    const candidates = (out.error?.details?.candidates ?? []) as string[];
    if (own.candidates.length) expect([...candidates].sort()).to.deep.equal([...own.candidates].sort());
    return;
  }
  if ('container' in own && !own.container.pid) {
    expect(out.error?.code, failed).to.equal('E_NOT_RUNNING');
    return;
  }
  expect(out.error, failed).to.equal(undefined);
  if ('version' in own) {
    const p = out.value as ProbeResult;
    expect(p.available, p.reason).to.equal(true);
    // classic LXC has no daemon to give a version: its probe names lxc-info's in the endpoint.
    expect(`${p.version} ${p.endpoint}`).to.contain(own.version);
  } else if ('container' in own) {
    expect(out.value).to.deep.include({ ...own.container, state: 'running' });
  } else {
    const all = out.value as Container[];
    expect(all.map(row).sort()).to.deep.equal(own.containers.map(row).sort());
    for (const c of all) {
      expect(c.state === 'running' || c.state === 'paused', `${c.name} is ${c.state}`).to.equal(c.pid > 0);
    }
  }
}
