/**
 * Wraps every adapter the engine loads, so that the rest of the engine can rely on the contract
 * whoever wrote the adapter: references are checked before they reach it, calls have a deadline
 * (a dead daemon or a stuck third-party module must not hang the CLI), whatever it throws becomes a
 * ScopeError that says what was being done, and the containers it returns carry its name.
 */
import { ScopeError, toScopeError } from './errors';
import type { Container, ContainerRuntime, ProbeResult } from './runtime';

/** Names and IDs every runtime accepts; anything else (slashes, '?', spaces) could be misread by an API path. */
const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+:@-]{0,252}$/;

export function checkRef(ref: string): void {
  if (!REF_PATTERN.test(ref.replace(/^\//, ''))) {
    throw new ScopeError('E_USAGE',
      `invalid container reference ${JSON.stringify(ref)}: give a name or an ID (letters, digits and _ . + : @ -)`);
  }
}

export const DEFAULT_CALL_DEADLINE_MS = 30_000;

export class GuardedRuntime implements ContainerRuntime {
  constructor(
    readonly name: string,
    private readonly inner: ContainerRuntime,
    private readonly deadlineMs = DEFAULT_CALL_DEADLINE_MS,
  ) {}

  async probe(): Promise<ProbeResult> {
    try {
      return await this.withDeadline(this.inner.probe(), 'probing');
    } catch (err) {
      return { available: false, reason: toScopeError(err).message };
    }
  }

  async list(): Promise<Container[]> {
    const found = await this.call(() => this.inner.list(), `listing ${this.name} containers`);
    return found.map((c) => this.stamp(c));
  }

  async resolve(ref: string): Promise<Container> {
    checkRef(ref);
    const c = await this.call(() => this.inner.resolve(ref), `resolving "${ref}" in ${this.name}`);
    return this.stamp(c);
  }

  async close(): Promise<void> {
    await this.inner.close?.();
  }

  private async call<T>(fn: () => Promise<T>, doing: string): Promise<T> {
    try {
      return await this.withDeadline(fn(), doing);
    } catch (err) {
      throw toScopeError(err, doing);
    }
  }

  private withDeadline<T>(work: Promise<T>, doing: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ScopeError('E_RUNTIME_UNAVAILABLE',
        `${doing}: ${this.name} did not answer within ${this.deadlineMs} ms`)), this.deadlineMs);
    });
    return Promise.race([work, expired]).finally(() => clearTimeout(timer));
  }

  private stamp(c: Container): Container {
    return { ...c, runtime: this.name, labels: c.labels ?? {}, image: c.image ?? '' };
  }
}
