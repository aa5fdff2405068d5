/**
 * Wraps every adapter the engine loads, so that the rest of the engine can rely on the contract
 * whoever wrote the adapter: references are checked before they reach it, calls have a deadline
 * (a dead daemon or a stuck third-party module must not hang the CLI), whatever it throws becomes a
 * ScopeError that says what was being done, and the containers it returns carry its name.
 */
import { withDeadline } from '../base/deadline';
import { ScopeError, toScopeError, type ErrorCode } from '../base/errors';
import { HandleScope } from './modules/handle-scope';
import { DEFAULT_CALL_DEADLINE_MS } from './config/timeouts';
import { pidResolvedAgain, type Container, type ContainerRuntime, type ProbeResult, type Asked } from './runtime';

/** Names and IDs every runtime accepts; anything else (slashes, '?', spaces) could be misread by an API path. */
const REF_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_.+:@-]{0,252}$/;

/** Whether `ref` is a name or ID every runtime accepts, or, bounded in length, of an adapter's own syntax. */
function validRef(ref: string, own?: RegExp): boolean {
  return REF_PATTERN.test(ref.replace(/^\//, '')) || (own !== undefined && ref.length <= 1024 && own.test(ref));
}

/** An adapter's own reference syntax, made once: a RegExp without the flags (g, y) that make test() keep state. */
function ownSyntax(pattern: unknown): RegExp | undefined {
  return pattern instanceof RegExp ? new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, '')) : undefined;
}

export function checkRef(ref: string, own?: RegExp): void {
  if (!validRef(ref, own)) {
    throw new ScopeError('E_USAGE',
      `invalid container reference ${JSON.stringify(ref)}: give a name or an ID (letters, digits and _ . + : @ -)` +
      `${own ? ', or a reference such as NAMESPACE/POD/CONTAINER' : ''}`);
  }
}

export { DEFAULT_CALL_DEADLINE_MS };

export interface GuardOptions {
  /** How long one call may take. */
  deadlineMs?: number;
  /** The code of a missed deadline: E_PLUGIN_TIMEOUT for plugins, E_RUNTIME_UNAVAILABLE for built-ins. */
  timeoutCode?: ErrorCode;
  /** In-process third-party code: what a call leaves running when it is given up is let go (see HandleScope). */
  contain?: boolean;
}


export class GuardedRuntime implements ContainerRuntime {
  readonly deadlineMs: number;
  private readonly timeoutCode: ErrorCode;
  private readonly syntax?: RegExp;

  constructor(
    readonly name: string,
    private readonly inner: ContainerRuntime,
    private readonly opts: GuardOptions = {},
  ) {
    this.deadlineMs = opts.deadlineMs ?? DEFAULT_CALL_DEADLINE_MS;
    this.timeoutCode = opts.timeoutCode ?? 'E_RUNTIME_UNAVAILABLE';
    this.syntax = ownSyntax(inner.refPattern);
  }

  /** Whether this adapter takes `ref`'s syntax (a name, an ID, or its own kind of reference). */
  accepts(ref: string): boolean {
    return validRef(ref, this.syntax);
  }

  async probe(): Promise<ProbeResult> {
    try {
      return await this.call(() => this.inner.probe(), 'probing');
    } catch (err) {
      return { available: false, reason: toScopeError(err).message };
    }
  }

  async list(): Promise<Container[]> {
    const found = await this.call(() => this.inner.list(), `listing ${this.name} containers`);
    return found.map((c) => this.stamp(c));
  }

  async resolve(ref: string, asked?: Asked): Promise<Container> {
    checkRef(ref, this.syntax);
    const c = await this.call(() => this.inner.resolve(ref, asked), `resolving "${ref}" in ${this.name}`);
    return this.stamp(c);
  }

  /**
   * The adapter's currentPid() where it has one, bounded and its errors named as the other calls';
   * else resolve(container.id) again, and 0 for an ID that now resolves to another container.
   * Every adapter so answers it, a plugin's too, with no change to the plugin protocol.
   */
  async currentPid(container: Container): Promise<number> {
    const inner = this.inner;
    if (inner.currentPid) {
      return this.call(() => inner.currentPid!(container), `checking container ${container.name} in ${this.name}`);
    }
    return pidResolvedAgain(this, container);
  }

  /** Bounded as the other calls are: a close that never ends must not keep the CLI from exiting. */
  async close(): Promise<void> {
    if (!this.inner.close) return;
    await this.call(async () => this.inner.close?.(), `closing ${this.name}`).catch(() => undefined);
  }

  /** Several calls of this adapter (a probe, then a question) within one deadline, as one call is. */
  within<T>(work: () => Promise<T>, doing: string): Promise<T> {
    return withDeadline(work(), this.deadlineMs, () => this.expired(doing));
  }

  private expired(doing: string): ScopeError {
    return new ScopeError(this.timeoutCode, `${doing}: ${this.name} did not answer within ${this.deadlineMs} ms`);
  }

  private async call<T>(fn: () => Promise<T>, doing: string): Promise<T> {
    const scope = this.opts.contain ? new HandleScope() : undefined;
    try {
      const work = scope ? scope.run(async () => fn()) : fn();
      const result = await withDeadline(work, this.deadlineMs, () => this.expired(doing), () => scope?.abandon());
      scope?.settle();
      return result;
    } catch (err) {
      scope?.settle();
      throw toScopeError(err, doing);
    }
  }

  private stamp(c: Container): Container {
    return { ...c, runtime: this.name, labels: c.labels ?? {}, image: c.image ?? '' };
  }
}
