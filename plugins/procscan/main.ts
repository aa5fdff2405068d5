#!/usr/bin/env node
/**
 * procscan: the reference out-of-process adapter, a plugin program built on scope-engine's SDK. It
 * finds running containers from /proc alone (scan.ts), which helps where a runtime's socket is out
 * of reach (rootless containerd, a socket the engine may not open). Load it with
 * `--plugins plugins/procscan/plugins.json`.
 */
import { serve, ScopeError, type Container, type ContainerRuntime } from '../../sdk/index';
import { scanContainers } from './scan';

const VERSION: string = require('../../../package.json').version;

class ProcscanRuntime implements ContainerRuntime {
  readonly name = 'procscan';

  async probe() {
    try {
      scanContainers();
      return { available: true, version: VERSION };
    } catch (err) {
      return { available: false, reason: `reading /proc: ${(err as Error).message}` };
    }
  }

  async list(): Promise<Container[]> {
    return scanContainers();
  }

  /** A name first, then a unique ID prefix. Only running containers have a process to find. */
  async resolve(ref: string): Promise<Container> {
    const all = scanContainers();
    let hits = all.filter((c) => c.name === ref);
    if (!hits.length) hits = all.filter((c) => c.id.startsWith(ref));
    if (hits.length > 1) {
      throw new ScopeError('E_AMBIGUOUS', `"${ref}" matches ${hits.length} containers: ` +
        `${hits.map((c) => `${c.name} (${c.labels['procscan/runtime']})`).join(', ')}`);
    }
    if (!hits.length) throw new ScopeError('E_NOT_FOUND',
      `no running container "${ref}" among the processes of this machine`);
    return hits[0];
  }
}

serve(new ProcscanRuntime()).catch((err) => {
  process.stderr.write(`procscan: ${err.stack ?? err}\n`);
  process.exit(1);
});
