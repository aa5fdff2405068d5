/**
 * `work` or, after `ms`, the error `expired()` makes; `onExpire` runs first (to let go of the work).
 * The timer is cleared as soon as the work settles, so it never keeps the process alive on its own.
 */
export function withDeadline<T>(work: Promise<T>, ms: number, expired: () => Error, onExpire?: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      onExpire?.();
      reject(expired());
    }, ms);
  });
  return Promise.race([work, deadline]).finally(() => clearTimeout(timer));
}
