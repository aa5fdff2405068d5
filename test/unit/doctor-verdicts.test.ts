import { expect } from 'chai';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { sandboxCheck, seccompCheck } from '../../core/doctor/checks';
import type { EngineFacts, TargetFacts } from '../../core/doctor/facts';
import { traceVerdict } from '../../core/doctor/ptrace';
import type { EntryCheck } from '../../native/exec';
import type { Trial } from '../../core/doctor/index';
import { FIXTURES } from '../support/replay';

/** What test/lab/record-doctor.ts recorded from a lab container: facts, the helper's dry run, the probe's results. */
interface Recorded {
  recorded: string;
  facts: TargetFacts;
  entry: EntryCheck | null;
  trial: Trial | null;
}

const dir = join(FIXTURES, 'doctor');
const recorded = readdirSync(dir).filter((f) => f.endsWith('.json'))
  .map((f) => ({ file: f, r: JSON.parse(readFileSync(join(dir, f), 'utf8')) as Recorded }));

/** An engine as root on the host, unconfined: the lab's. */
const engine = { status: { Seccomp: 0 } } as EngineFacts;

describe('doctor verdicts on containers recorded from the lab', () => {
  it('has recordings of each kind: the issue\'s docker options, other runtimes, a sandbox', () => {
    expect(recorded.map((x) => x.file)).to.include.members(['lab-web.json', 'lab-ptrace.json', 'lab-unconfined.json',
      'lab-nnp.json', 'lab-nocaps.json', 'lab-app.json', 'lab-gvisor.json']);
  });

  for (const { file, r } of recorded) {
    it(`${file}: every verdict is what the probe got inside`, () => {
      if (r.facts.sandbox) {
        expect([r.entry, r.trial]).to.deep.equal([null, null]);
        expect(sandboxCheck(r.facts).status).to.equal('fail');
        for (const call of ['ptrace', 'process_vm_readv'] as const) {
          expect(traceVerdict(r.facts, call, undefined).status).to.equal('fail');
        }
        return;
      }
      for (const call of ['ptrace', 'process_vm_readv'] as const) {
        const v = traceVerdict(r.facts, call, r.entry!.syscalls[call]);
        expect(v.status !== 'fail', `${call}: ${v.summary}`).to.equal(r.trial![call].ok);
        // A refusal names what would change it.
        if (v.status === 'fail') expect(v.fix, v.summary).to.be.a('string').and.not.equal('');
      }
    });
  }

  it('a seccomp EPERM is blamed on the filter, with --cap-add SYS_PTRACE as the fix where it is missing', () => {
    const web = recorded.find((x) => x.file === 'lab-web.json')!.r;
    const v = traceVerdict(web.facts, 'process_vm_readv', web.entry!.syscalls.process_vm_readv);
    expect(v.summary).to.match(/^blocked by seccomp: .*EPERM/);
    expect(v.fix).to.contain('--cap-add SYS_PTRACE');
    expect(seccompCheck(engine, web.facts, web.entry!).summary).to.contain('process_vm_readv EPERM');
  });

  // Kernel rules the lab cannot show (no Yama here): the recorded default container with the setting changed.
  it('Yama ptrace_scope 1 and 2 need CAP_SYS_PTRACE, 3 refuses everyone', () => {
    const plain = recorded.find((x) => x.file === 'lab-unconfined.json')!.r;
    const added = recorded.find((x) => x.file === 'lab-ptrace.json')!.r;
    const at = (r: Recorded, scope: number) =>
      traceVerdict({ ...r.facts, yamaPtraceScope: scope }, 'ptrace', r.entry!.syscalls.ptrace).status;
    expect([1, 2, 3].map((s) => at(plain, s))).to.deep.equal(['fail', 'fail', 'fail']);
    expect([0, 1, 2, 3].map((s) => at(added, s))).to.deep.equal(['ok', 'ok', 'ok', 'fail']);
  });

  it('a traced target cannot be attached, though its memory can still be read', () => {
    const r = recorded.find((x) => x.file === 'lab-unconfined.json')!.r;
    const traced = { ...r.facts, status: { ...r.facts.status, TracerPid: 4242 } };
    expect(traceVerdict(traced, 'ptrace', 'allow').summary).to.contain('already traced by PID 4242');
    expect(traceVerdict(traced, 'process_vm_readv', 'allow').status).to.equal('ok');
  });
});
