/**
 * The lab's kubectl: Debian's kubernetes-client 1.20, unpacked by test/lab/kubectl.sh (not installed:
 * /usr/bin/kubectl may be another package's). Tests run it by this path, never whatever is on PATH;
 * and the kubectl-scope plugin (deploy/kubernetes/kubectl-scope) with it.
 */
import { execFile } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Context } from 'mocha';
import { PACKAGE_ROOT } from '../../base/paths';
import type { CliResult } from './cli';
import { skipOrFail } from './lab';
import { tempDir } from './tmp';

export const KUBECTL = '/var/lib/scope-lab/kubernetes-client/usr/bin/kubectl';
export const PLUGIN = join(PACKAGE_ROOT, 'deploy', 'kubernetes', 'kubectl-scope');

/** Skips the suite, saying why, when the lab has no kubectl; with CI=true that fails the run instead. */
export function requireKubectl(ctx: Context): void {
  if (existsSync(KUBECTL)) return;
  skipOrFail(ctx, `${KUBECTL} is not there; run LAB_RUNTIMES=kubectl bash test/lab/setup.sh`);
}

/**
 * A home for kubectl (its discovery cache goes there) with a kubeconfig for `server`: contexts "shop"
 * (the current one) and "other", named after their default namespaces. The kubeconfig's path.
 */
export function kubeHome(server: string): { home: string; config: string } {
  const home = tempDir('kube-home-');
  const config = join(home, 'config');
  const context = (ns: string) => ({ name: ns, context: { cluster: 'fake', user: 'tester', namespace: ns } });
  writeFileSync(config, JSON.stringify({
    apiVersion: 'v1', kind: 'Config', 'current-context': 'shop',
    clusters: [{ name: 'fake', cluster: { server } }],
    users: [{ name: 'tester', user: {} }],
    contexts: [context('shop'), context('other')],
  }));
  return { home, config };
}

/**
 * Runs `file ARGS` (the plugin, or kubectl itself) with HOME and KUBECONFIG from `kube`, the lab's
 * kubectl as KUBECTL, and `env` on top; its stdin is empty and no terminal.
 */
export function runKube(file: string, args: string[], kube: { home: string; config: string },
  env: Record<string, string | undefined> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const childEnv = { PATH: process.env.PATH, HOME: kube.home, KUBECONFIG: kube.config, KUBECTL, ...env };
    const child = execFile(file, args, { env: childEnv, timeout: 60_000 }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : 1) : 0;
      resolve({ code, stdout: String(stdout), stderr: String(stderr) });
    });
    child.stdin!.end();
  });
}
