/**
 * The ctr adapter: containerd's containers as `ctr` shows them, named by their IDs, in one
 * namespace (`default` unless plugins.json, CONTAINERD_NAMESPACE or --namespace say otherwise).
 */
import { ScopeError } from '../../base/errors';
import type { Container, ContainerRuntime } from '../../core/runtime';
import { inject, injectable } from 'tsyringe';
import { Env, Options } from '../../core/tokens';
import { ContainerdClient, type ContainerdContainer } from './client';
import { ContainerdRuntime } from './runtime-base';

@injectable()
export class CtrRuntime extends ContainerdRuntime implements ContainerRuntime {
  readonly name = 'ctr';

  constructor(@inject(ContainerdClient) client: ContainerdClient, @inject(Options) options: Options,
    @inject(Env) env: Env) {
    super(client, options, env);
  }

  list(): Promise<Container[]> {
    return this.listWith([]);
  }

  /** An exact ID, else a unique ID prefix. */
  async resolve(ref: string): Promise<Container> {
    try {
      return await this.withTask(await this.client.getContainer(this.namespace, ref));
    } catch (err) {
      if ((err as ScopeError).code !== 'E_NOT_FOUND') throw err;
    }
    const matches = (await this.client.listContainers(this.namespace)).filter((c) => c.id.startsWith(ref));
    if (matches.length > 1) {
      throw new ScopeError('E_AMBIGUOUS', `"${ref}" is a prefix of several containerd container IDs in namespace ` +
        `${this.namespace} (${matches.map((c) => c.id).join(', ')}); give more of the ID`,
        { details: { candidates: matches.map((c) => c.id) } });
    }
    if (!matches.length) {
      const namespaces = await this.client.listNamespaces().catch(() => [] as string[]);
      throw new ScopeError('E_NOT_FOUND', `no containerd container "${ref}" in namespace ${this.namespace} ` +
        `(another namespace? --namespace NS; this containerd has: ${namespaces.join(', ') || 'none'})`,
        { details: { namespaces } });
    }
    return this.withTask(matches[0]);
  }

  protected displayName(c: ContainerdContainer): string {
    return c.id;
  }
}
