/** Error codes of calls a test expects to fail, in one form every test compares with. */
import { ScopeError } from '../../base/errors';

/**
 * The code of the ScopeError `call` failed with: a promise, or a function that throws or returns
 * one. 'resolved' when it did not fail, and what it threw when that was no ScopeError, so that a
 * test expecting a code fails saying what happened instead.
 */
export async function codeOf(call: Promise<unknown> | (() => unknown)): Promise<string> {
  try {
    await (typeof call === 'function' ? call() : call);
    return 'resolved';
  } catch (err) {
    return err instanceof ScopeError ? err.code : `not a ScopeError: ${String(err)}`;
  }
}
