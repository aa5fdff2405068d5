/** Waits that end on the event they wait for, with a deadline that fails saying what did not happen. */
import { watch } from 'node:fs';

/**
 * Resolves once `holds()` is true, asking again at every change in `dir` (inotify; a container's
 * directory seen through /proc/PID/root works as well). It is asked once the watch is in place, so
 * a change just before is not missed.
 */
export function untilChanged(dir: string, ms: number, what: string, holds: () => boolean): Promise<void> {
  return new Promise((resolve, reject) => {
    const watcher = watch(dir);
    let over = false;
    const end = (err?: unknown) => {
      if (over) return;
      over = true;
      clearTimeout(timer);
      watcher.close();
      if (err) reject(err);
      else resolve();
    };
    const timer = setTimeout(() => end(new Error(`waited ${ms} ms for ${what} (changes in ${dir})`)), ms);
    const ask = () => {
      try {
        if (holds()) end();
      } catch (err) {
        end(err);
      }
    };
    watcher.on('change', ask);
    watcher.on('error', end);
    ask();
  });
}
