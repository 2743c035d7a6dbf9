// The closed set of errors keygate reports to users. Core code throws these; exactly one boundary
// (src/cli.ts) prints them as `keygate: <what> — <what to do>` and sets the exit code.
// Messages never contain a secret: callers pass names and reasons, never token values.

/** Exit codes from the product contract (DESIGN.md, "Commands"). */
export const ExitCode = {
  ok: 0,
  error: 1,
  usage: 2,
  notConnected: 3,
  provider: 4,
  credential: 5,
  /** Ctrl-C at a prompt: 128 + SIGINT, as shells report it. */
  interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/**
 * A stable name for each error class, for code that branches on the kind of failure without
 * `instanceof` (across package copies, or after serialising the error).
 */
export type ErrorCode =
  'error' | 'usage' | 'not_connected' | 'provider' | 'credential' | 'interrupted' | 'vault' | 'store_unavailable' | 'provider_request';

export interface ErrorOptions {
  /** What the user should do next; printed after the em dash. */
  hint?: string;
  cause?: unknown;
}

/** Base class: an expected failure with a user-facing message and an exit code. */
export class KeygateError extends Error {
  readonly code: ErrorCode = 'error';
  readonly exitCode: ExitCode = ExitCode.error;
  readonly hint: string | undefined;
  constructor(message: string, options: ErrorOptions = {}) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.hint = options.hint;
  }
}

/** Bad command line: unknown command or flag, bad argument value. Exit 2. */
export class UsageError extends KeygateError {
  override readonly code = 'usage';
  override readonly exitCode = ExitCode.usage;
}

/** The named connection does not exist or is not connected. Exit 3. */
export class ConnectionNotFoundError extends KeygateError {
  override readonly code = 'not_connected';
  override readonly exitCode = ExitCode.notConnected;
}

/** Unknown provider, or a provider file that fails validation. Exit 4. */
export class ProviderError extends KeygateError {
  override readonly code = 'provider';
  override readonly exitCode = ExitCode.provider;
  /** Every problem found in a provider file, one line each (`<file>: <JSON path> <what>`). */
  readonly problems: string[];
  constructor(message: string, options: ErrorOptions & { problems?: string[] } = {}) {
    super(message, options);
    this.problems = options.problems ?? [];
  }
}

/** The credential is expired (and cannot be refreshed now) or revoked. Exit 5. */
export class CredentialError extends KeygateError {
  override readonly code = 'credential';
  override readonly exitCode = ExitCode.credential;
}

/** The user pressed Ctrl-C at a prompt. Printed as nothing: they know. Exit 130. */
export class InterruptedError extends KeygateError {
  override readonly code = 'interrupted';
  override readonly exitCode = ExitCode.interrupted;
}

/** The vault cannot be read or written safely (tampering, unknown format, key problems). Exit 1. */
export class VaultError extends KeygateError {
  override readonly code = 'vault';
}

/**
 * The shared store (PostgreSQL) cannot be reached or stopped answering. Exit 1. Never a verdict on a
 * credential: nothing is marked expired or revoked because of it.
 */
export class StoreUnavailableError extends KeygateError {
  override readonly code = 'store_unavailable';
}

/** A call to a provider or the network failed (token exchange, revoke, refresh). Exit 1. */
export class ProviderRequestError extends KeygateError {
  override readonly code = 'provider_request';
}

/** Format an error as the one line the contract promises. Pure, so it can be unit-tested. */
export function formatError(err: unknown): string {
  if (err instanceof KeygateError) {
    return err.hint ? `keygate: ${err.message} — ${err.hint}` : `keygate: ${err.message}`;
  }
  const message = err instanceof Error ? err.message : String(err);
  return `keygate: unexpected error: ${firstLine(message)} — rerun with KEYGATE_DEBUG=1 for details and report it`;
}

export function exitCodeOf(err: unknown): ExitCode {
  return err instanceof KeygateError ? err.exitCode : ExitCode.error;
}

function firstLine(text: string): string {
  const line = text.split('\n', 1)[0] ?? '';
  return line.length > 300 ? `${line.slice(0, 300)}…` : line;
}
