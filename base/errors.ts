/**
 * The one error class of scope-engine. Every failure a user can meet carries a stable string code,
 * a message that says what to do, and the cause; the CLI turns the code into its exit status.
 */

/** Stable error codes. Scripts match on these; never rename one. */
export const ErrorCodes = {
  /** Bad command-line usage or an invalid argument (exit 2). */
  E_USAGE: 2,
  /** No container by that name or ID prefix in the runtime(s) asked. */
  E_NOT_FOUND: 3,
  /** The reference matches more than one container (ID prefix, or a name in two runtimes). */
  E_AMBIGUOUS: 4,
  /** The container exists but has no running main process. */
  E_NOT_RUNNING: 5,
  /** The runtime cannot be reached here: no socket, no daemon, no tool. */
  E_RUNTIME_UNAVAILABLE: 6,
  /** The operating system refused: not root, socket not readable, ptrace or setns denied. */
  E_PERMISSION: 7,
  /** A plugins.json file, or an entry in it, is wrong. */
  E_PLUGIN_CONFIG: 8,
  /** The runtime answered with something scope-engine cannot use. */
  E_RUNTIME_ERROR: 9,
  /** No adapter by that name is loaded. */
  E_UNKNOWN_RUNTIME: 10,
  /** The native core (addon or exec helper) is not built or cannot load; the message lists every path tried. */
  E_NATIVE_MISSING: 11,
  /** The target process exited, or its PID now names another process, since it was resolved. */
  E_TARGET_GONE: 12,
  /** A user or group ID has no mapping in the container's user namespace. */
  E_ID_UNMAPPED: 13,
  /** A file operation inside the container failed (no such file, not a directory, ...). */
  E_FILE: 14,
  /** The runtime has it, but scope-engine cannot act on it (an LXD virtual machine, say). */
  E_UNSUPPORTED: 15,
  /** A payload directory or its payload.json is wrong. */
  E_PAYLOAD: 16,
  /** Nothing answered on the IPC message queues in time (no payload running there?). */
  E_IPC_TIMEOUT: 17,
  /** `run` found a payload already running for that target. */
  E_ALREADY_RUNNING: 18,
  /** An out-of-process plugin exited (before its handshake, or in the middle of a call). */
  E_PLUGIN_EXITED: 19,
  /** An out-of-process plugin's first line was not a go-plugin handshake we accept. */
  E_PLUGIN_HANDSHAKE: 20,
  /** An out-of-process plugin did not finish its handshake, or answer a call, in time. */
  E_PLUGIN_TIMEOUT: 21,
  /**
   * The target's confinement (capabilities, seccomp filters, cgroups, limits, LSM label) could not
   * be read or taken, so nothing was started: the message names the piece and why.
   */
  E_CONFINEMENT: 22,
  /** Joining the container's namespaces or taking its credentials failed. */
  E_NAMESPACE: 125,
  /** The program exists inside the container but could not be run. */
  E_EXEC_DENIED: 126,
  /** No such program inside the container (or on the host, with --host-binary). */
  E_EXEC_NOT_FOUND: 127,
  /** A bug or an unexpected failure; the message says what was being done. */
  E_INTERNAL: 1,
} as const;

export type ErrorCode = keyof typeof ErrorCodes;

export class ScopeError extends Error {
  override readonly name = 'ScopeError';

  constructor(
    readonly code: ErrorCode,
    message: string,
    options: { cause?: unknown; details?: Record<string, unknown> } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.details = options.details;
  }

  /** Extra facts for `--json` output (candidates of an ambiguous match, the file at fault, ...). */
  readonly details?: Record<string, unknown>;

  /** The exit status the CLI uses for this error. */
  get exitCode(): number {
    return ErrorCodes[this.code];
  }

  toJSON(): Record<string, unknown> {
    const out: Record<string, unknown> = { code: this.code, message: this.message };
    if (this.details) out.details = this.details;
    if (this.cause !== undefined) out.cause = describeCause(this.cause);
    return out;
  }
}

/** Operating-system errno values that mean "you are not allowed", whatever the call. */
const PERMISSION_ERRNOS = new Set(['EACCES', 'EPERM']);

/**
 * Turns anything thrown into a ScopeError, keeping ScopeErrors as they are. `doing` says what was
 * being attempted, so that the message reads "listing docker containers: connect EACCES ...".
 */
export function toScopeError(err: unknown, doing?: string): ScopeError {
  if (err instanceof ScopeError) return err;
  const prefix = doing ? `${doing}: ` : '';
  const errno = (err as NodeJS.ErrnoException | undefined)?.code;
  const text = err instanceof Error ? err.message : String(err);
  // A third-party adapter that cannot import ScopeError throws an Error whose `code` is one of ours.
  if (errno && isErrorCode(errno)) return new ScopeError(errno, prefix + text, { cause: err });
  if (errno && PERMISSION_ERRNOS.has(errno)) return new ScopeError('E_PERMISSION', prefix + text, { cause: err });
  return new ScopeError('E_INTERNAL', prefix + text, { cause: err });
}

export function isErrorCode(code: string): code is ErrorCode {
  return Object.prototype.hasOwnProperty.call(ErrorCodes, code);
}

function describeCause(cause: unknown): unknown {
  if (cause instanceof ScopeError) return cause.toJSON();
  if (cause instanceof Error) {
    const errno = (cause as NodeJS.ErrnoException).code;
    return errno ? { message: cause.message, errno } : { message: cause.message };
  }
  return String(cause);
}
