import type { Clock } from '../tokens';

/**
 * Checks `done` every `everyMs` until it holds or `ms` have passed; true if it held. For states
 * that give Node no event to wait on: a file inside a container's mount namespace, a process seen
 * only through a pidfd.
 */
export async function pollUntil(clock: Clock, ms: number, everyMs: number,
  done: () => boolean | Promise<boolean>): Promise<boolean> {
  const deadline = clock.now() + ms;
  for (;;) {
    if (await done()) return true;
    if (clock.now() >= deadline) return false;
    await clock.sleep(everyMs);
  }
}
