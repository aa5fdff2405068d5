/**
 * Records, for the doctor's unit tests, what the lab's containers really are and really allow: for
 * each container of the lab file that the matrix's doctor column takes, and each row's sandbox, the
 * target's facts (/proc/PID/status and the rest), the exec helper's dry run (what the target's seccomp
 * filters answer), and what the probe got when it tried ptrace and process_vm_readv inside. test/unit/doctor-verdicts.test.ts holds the verdicts to the probe's
 * results. Run with the lab up:
 *   npm run build && node dist/test/lab/record-doctor.js
 */
import 'reflect-metadata';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import '../../adapters';
import { createEngine } from '../../core/index';
import { runDoctor } from '../../core/doctor/index';
import { doctorRefs } from '../../testing/doctor';
import { labRows } from '../support/lab';
import { FIXTURES } from '../support/replay';

async function main(): Promise<void> {
  const dir = join(FIXTURES, 'doctor');
  mkdirSync(dir, { recursive: true });
  const engine = await createEngine({ env: { ...process.env, SCOPE_ENGINE_PLUGINS: '' } });
  try {
    // The lab file's containers, as the matrix's doctor column takes them, and each row's sandbox.
    const containers = labRows().flatMap((row) =>
      [...doctorRefs(row), ...(row.sandboxed ? [row.sandboxed] : [])].map((name) => [row.runtime, name]));
    for (const [runtime, name] of containers) {
      const report = await runDoctor(engine, { ref: name, runtime, trial: true });
      if (!report.target) throw new Error(`${name}: ${JSON.stringify(report.checks)}`);
      const { entry, trial, ...facts } = report.target;
      const file = join(dir, `${name.replace(/\//g, '_')}.json`);
      writeFileSync(file, JSON.stringify({ recorded: `scope-engine doctor -r ${runtime} ${name} --try`, facts, entry,
        trial }, null, 2) + '\n');
      process.stdout.write(`${file}\n`);
    }
  } finally {
    await engine.close();
  }
}

main().catch((err) => {
  process.stderr.write(`${(err as Error).stack}\n`);
  process.exit(1);
});
