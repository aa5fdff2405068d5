/**
 * The nerdctl adapter: containers nerdctl made, found through containerd the way nerdctl itself
 * resolves a reference: the `nerdctl/name` label equal to it, or an ID starting with it
 * (containerwalker's two filters, which containerd ORs). More than one match is ambiguous.
 */
import { ScopeError } from '../../base/errors';
import type { Container, ContainerRuntime } from '../../core/runtime';
import { inject, injectable } from 'tsyringe';
import { Env, Options } from '../../core/tokens';
import { ContainerdClient, type ContainerdContainer } from './client';
import { ContainerdRuntime } from './runtime-base';

export const NAME_LABEL = 'nerdctl/name';

@injectable()
export class NerdctlRuntime extends ContainerdRuntime implements ContainerRuntime {
  readonly name = 'nerdctl';

  constructor(@inject(ContainerdClient) client: ContainerdClient, @inject(Options) options: Options,
    @inject(Env) env: Env) {
    super(client, options, env);
  }

  /** Only what nerdctl made: containers with a name label. */
  list(): Promise<Container[]> {
    return this.listWith([`labels."${NAME_LABEL}"`]);
  }

  async resolve(ref: string): Promise<Container> {
    // The reference has passed the engine's check (no quotes, no spaces); the ID filter is used only
    // for hex, so that no regular-expression character reaches containerd's filter parser.
    const filters = [`labels."${NAME_LABEL}"=="${ref}"`];
    if (/^[0-9a-f]+$/.test(ref)) filters.push(`id~=^${ref}`);
    const matches = await this.client.listContainers(this.namespace, filters);
    if (matches.length > 1) {
      throw new ScopeError('E_AMBIGUOUS',
        `"${ref}" matches several nerdctl containers in namespace ${this.namespace} ` +
        `(${matches.map((c) => `${this.displayName(c)} ${c.id.slice(0, 12)}`).join(', ')})`,
      { details: { candidates: matches.map((c) => c.id) } });
    }
    if (!matches.length) {
      throw new ScopeError('E_NOT_FOUND',
        `no nerdctl container named or with ID prefix "${ref}" in namespace ${this.namespace}`);
    }
    return this.withTask(matches[0]);
  }

  protected displayName(c: ContainerdContainer): string {
    return c.labels?.[NAME_LABEL] || c.id;
  }
}
