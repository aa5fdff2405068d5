import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { cliUnder } from '../support/cli';
import { labRow, requireRuntime, tool } from '../support/lab';

/**
 * An engine in a PID namespace of its own (a container started without --pid=host, played here by
 * unshare) sees other processes under the PIDs runtimes report: every command that acts in a
 * container refuses, saying how to run it, before it does anything.
 */
function isolated(args: string[]): Promise<{ code: number; stderr: string }> {
  return cliUnder(['unshare', '--pid', '--fork', '--mount-proc'], args, { SCOPE_ENGINE_PLUGINS: '' });
}

describe('an engine outside the host\'s PID namespace (real docker)', function () {
  const row = labRow('docker');
  const marker = `/tmp/scope-host-pid-${process.pid}`;

  before(async function () {
    await requireRuntime(this, 'docker');
  });

  const commands: [string, string[]][] = [
    ['exec', ['exec', '--runtime', 'docker', row.running, '--', 'touch', marker]],
    ['cp', ['cp', '/etc/hostname', `${row.running}:${marker}`]],
    ['run -d', ['run', '-d', '--runtime', 'docker', row.running]],
    ['detach', ['detach', '--runtime', 'docker', row.running]],
    ['ipc', ['ipc', '--runtime', 'docker', row.running, 'status']],
    ['stop', ['stop', '--runtime', 'docker', row.running]],
  ];
  for (const [name, args] of commands) {
    it(`${name} is E_PERMISSION (exit 7) saying to run with --pid=host, and nothing is done`, async () => {
      const r = await isolated(args);
      expect(r.stderr).to.contain('E_PERMISSION').and.to.contain('--pid=host').and.to.contain('hostPID: true');
      expect(r.code).to.equal(7);
      const pid = tool('docker', ['inspect', '-f', '{{.State.Pid}}', row.running]);
      expect(existsSync(`/proc/${pid}/root${marker}`), 'a file was made in the container').to.equal(false);
    });
  }
});
