/**
 * What the lxc adapter learns from liblxc's side of the host without its tools (adapters/lxc/monitor.ts:
 * whether a container is defined, what its monitor says), recorded from the lab by a RecordingLxcHost
 * and played back by a ReplayLxcHost, each put in place of the adapter's LxcHost. The recording keeps
 * what the real LxcHost concluded, after the kernel vouched for the monitor: the unit tests hold the
 * adapter to those answers, and test/unit/lxc-monitor.test.ts tests the vouching on real sockets.
 */
import { ScopeError } from '../../base/errors';
import { LxcHost, type MonitorAnswer } from '../../adapters/lxc/monitor';

/** One question to the LxcHost and its answer, as a fixture keeps it. */
export interface LxcHostExchange {
  lxcHost: 'defined' | 'monitor';
  lxcpath: string;
  name: string;
  /** monitor(): whether the state was asked too. */
  state?: boolean;
  /** defined(): a boolean; monitor(): what the monitor said, null when it could not be asked. */
  answer?: boolean | MonitorAnswer | null;
  error?: { code: string; message: string };
}

/** Exchanges of a fixture that are the LxcHost's (a fixture also holds HTTP or tool exchanges). */
export function lxcHostExchanges(exchanges: unknown[]): LxcHostExchange[] {
  return exchanges.filter((e): e is LxcHostExchange => !!(e as LxcHostExchange).lxcHost);
}

/** The real LxcHost, keeping every question and answer until take(). */
export class RecordingLxcHost extends LxcHost {
  private kept: LxcHostExchange[] = [];

  override defined(lxcpath: string, name: string): boolean {
    const answer = super.defined(lxcpath, name);
    this.kept.push({ lxcHost: 'defined', lxcpath, name, answer });
    return answer;
  }

  override async monitor(lxcpath: string, name: string, opts: { state?: boolean; timeoutMs?: number } = {}):
    Promise<MonitorAnswer | undefined> {
    const base = { lxcHost: 'monitor' as const, lxcpath, name, state: !!opts.state };
    try {
      const answer = await super.monitor(lxcpath, name, opts);
      this.kept.push({ ...base, answer: answer ?? null });
      return answer;
    } catch (err) {
      this.kept.push({ ...base, error: { code: (err as ScopeError).code, message: (err as Error).message } });
      throw err;
    }
  }

  take(): LxcHostExchange[] {
    const kept = this.kept;
    this.kept = [];
    return kept;
  }
}

/**
 * Answers as recorded. A question never recorded fails (and is kept in `unmatched`), so that a
 * test cannot pass on answers nobody recorded, nor reach the machine's real monitors.
 */
export class ReplayLxcHost {
  readonly unmatched: string[] = [];

  constructor(private readonly exchanges: LxcHostExchange[]) {}

  defined(lxcpath: string, name: string): boolean {
    return this.find('defined', lxcpath, name).answer as boolean;
  }

  async monitor(lxcpath: string, name: string, opts: { state?: boolean } = {}): Promise<MonitorAnswer | undefined> {
    const hit = this.find('monitor', lxcpath, name, !!opts.state);
    if (hit.error) throw new ScopeError(hit.error.code as ScopeError['code'], hit.error.message);
    return (hit.answer as MonitorAnswer | null) ?? undefined;
  }

  private find(kind: LxcHostExchange['lxcHost'], lxcpath: string, name: string, state?: boolean): LxcHostExchange {
    const hit = this.exchanges.find((e) => e.lxcHost === kind && e.lxcpath === lxcpath && e.name === name &&
      (state === undefined || e.state === state));
    if (hit) return hit;
    const what = `${kind}(${lxcpath}, ${name}${state === undefined ? '' : `, state: ${state}`})`;
    this.unmatched.push(what);
    throw new ScopeError('E_RUNTIME_ERROR', `lxc-host replay: never recorded: ${what}`);
  }
}
