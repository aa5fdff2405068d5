/**
 * Undoing half-done work when the CLI is interrupted (Ctrl-C, SIGTERM): an operation that makes
 * something it must not leave behind half-made (a private install directory, say) registers how
 * to remove it for as long as it is half-made. The CLI runs what is registered, then exits.
 */
const pending = new Set<() => Promise<unknown>>();
let undoing = false;

/** Registers `undo` until the returned function is called (when the work is done or undone). */
export function undoOnInterrupt(undo: () => Promise<unknown>): () => void {
  pending.add(undo);
  return () => {
    pending.delete(undo);
  };
}

/** Whether anything is half-made now, or being undone. */
export function hasPendingUndo(): boolean {
  return pending.size > 0 || undoing;
}

/** Runs every registered undo, each at most once, all within `timeoutMs`; a second call waits for the first. */
let running: Promise<void> | undefined;
export function undoAll(timeoutMs = 5000): Promise<void> {
  running ??= undoNow(timeoutMs).finally(() => {
    undoing = false;
    running = undefined;
  });
  return running;
}

async function undoNow(timeoutMs: number): Promise<void> {
  undoing = true;
  const all = [...pending];
  pending.clear();
  let timer: NodeJS.Timeout | undefined;
  await Promise.race([
    Promise.allSettled(all.map((undo) => undo())),
    new Promise((resolve) => { timer = setTimeout(resolve, timeoutMs); }),
  ]);
  clearTimeout(timer);
}
