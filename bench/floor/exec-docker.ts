/**
 * The least a Node program can do for `exec --runtime docker NAME -- true`, as a yardstick for the
 * targets: one inspect over docker's socket for the main process's PID, then `nsenter -t PID -a true`.
 * No pin, no check that the container is still the same, no confinement, no bundle: what any CLI run
 * by Node pays before doing anything of its own. The bench's floor rows time it against the peers.
 */
import { spawn } from 'node:child_process';
import { request } from 'node:http';

const [name, socketPath = '/var/run/docker.sock'] = process.argv.slice(2);
request({ socketPath, path: `/containers/${encodeURIComponent(name)}/json` }, (res) => {
  const chunks: Buffer[] = [];
  res.on('data', (c: Buffer) => chunks.push(c));
  res.on('end', () => {
    const pid = JSON.parse(Buffer.concat(chunks).toString()).State?.Pid;
    if (!pid) throw new Error(`docker says ${name} has no PID`);
    spawn('nsenter', ['-t', String(pid), '-a', 'true'], { stdio: 'inherit' })
      .on('exit', (code) => { process.exitCode = code ?? 1; });
  });
}).end();
