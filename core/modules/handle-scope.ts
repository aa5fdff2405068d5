/**
 * What an in-process plugin module starts (timers, sockets, watchers) while it is being imported or
 * while one of its calls runs, so that the engine can let go of it when that work never settles.
 * A module stuck in `await new Promise(() => setInterval(...))` would otherwise keep the CLI alive
 * after its error was reported: Node cannot cancel a module's evaluation, but it can unref what it
 * made, and then the process exits when the engine is done.
 */
import { AsyncLocalStorage, createHook, type AsyncHook } from 'node:async_hooks';

const current = new AsyncLocalStorage<HandleScope>();
/** Promises are the bulk of async resources and hold nothing open: not worth tracking. */
const UNTRACKED = new Set(['PROMISE']);
let hook: AsyncHook | undefined;
let open = 0;

// The hook slows every async operation a little, so it is only enabled while a scope is running.
function retain(): void {
  if (open++ === 0) {
    hook ??= createHook({
      init(_id, type, _trigger, resource) {
        if (!UNTRACKED.has(type)) current.getStore()?.track(resource);
      },
    });
    hook.enable();
  }
}

function release(): void {
  if (--open === 0) hook?.disable();
}

export class HandleScope {
  private readonly made: WeakRef<object>[] = [];
  private running = false;

  /** Runs `fn`, tracking what it and everything it schedules creates until `settle()` or `abandon()`. */
  run<T>(fn: () => Promise<T>): Promise<T> {
    if (!this.running) {
      this.running = true;
      retain();
    }
    return current.run(this, fn);
  }

  track(resource: object): void {
    if (this.running) this.made.push(new WeakRef(resource));
  }

  /** The work finished: what it made is the module's business from now on (a client's keep-alive socket). */
  settle(): void {
    this.stop();
    this.made.length = 0;
  }

  /** The work was given up: nothing it made may keep the process alive. */
  abandon(): void {
    this.stop();
    for (const ref of this.made.splice(0)) {
      const r = ref.deref() as { unref?: () => unknown } | undefined;
      if (typeof r?.unref === 'function') r.unref();
    }
  }

  private stop(): void {
    if (this.running) {
      this.running = false;
      release();
    }
  }
}
