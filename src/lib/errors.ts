/**
 * Typed errors. Every failure a user can cause or meet is one of these classes; the CLI maps
 * them to exit codes and the HTTP layer to statuses in exactly one place each
 * (cli/exit-codes.ts, server/error-handler.ts), so a message never depends on where it surfaced.
 *
 * Messages MUST NOT contain secrets: build them from redacted connection strings
 * (config/connection-string.ts `describeTarget`) and never from raw user input that may hold a password.
 */
export type ErrorKind =
  | 'usage' // the command line or request body is malformed
  | 'precondition' // input is well-formed but the world is not in a state that allows the action
  | 'not-found'
  | 'conflict'
  | 'forbidden'
  | 'unauthorized'
  | 'maintenance'
  | 'runtime'; // something failed while acting (I/O, database dropped the connection...)

export class CuttleError extends Error {
  readonly kind: ErrorKind;
  /** Lines that tell the user how to fix it; printed after the message. */
  readonly hints: string[];
  /** Extra detail lines (Octopus's `Errors` array). */
  readonly details: string[];

  constructor(
    kind: ErrorKind,
    message: string,
    opts: { hints?: string[]; details?: string[]; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.hints = opts.hints ?? [];
    this.details = opts.details ?? [];
    this.name = new.target.name;
  }
}

export class UsageError extends CuttleError {
  constructor(message: string, opts: { hints?: string[]; details?: string[] } = {}) {
    super('usage', message, opts);
  }
}

/** Bad input or a state that forbids the action; nothing was changed. */
export class PreconditionError extends CuttleError {
  constructor(message: string, opts: { hints?: string[]; details?: string[]; cause?: unknown } = {}) {
    super('precondition', message, opts);
  }
}

export class NotFoundError extends CuttleError {
  constructor(message: string, opts: { hints?: string[] } = {}) {
    super('not-found', message, opts);
  }
}

export class ConflictError extends CuttleError {
  constructor(message: string, opts: { hints?: string[]; details?: string[] } = {}) {
    super('conflict', message, opts);
  }
}

export class ForbiddenError extends CuttleError {
  constructor(message: string) {
    super('forbidden', message);
  }
}

export class UnauthorizedError extends CuttleError {
  constructor(message: string) {
    super('unauthorized', message);
  }
}

export class MaintenanceModeError extends CuttleError {
  constructor(
    message = 'Cuttle is in maintenance mode: only administrators can make changes until it is turned off.',
  ) {
    super('maintenance', message, {
      hints: ['An administrator can turn it off with `cuttle maintenance --off`.'],
    });
  }
}

export class RuntimeFailure extends CuttleError {
  constructor(message: string, opts: { hints?: string[]; details?: string[]; cause?: unknown } = {}) {
    super('runtime', message, opts);
  }
}

/** Normalise anything thrown into an Error (graphile-worker's coerceError). */
export function coerceError(err: unknown): Error {
  if (err instanceof Error) return err;
  if (typeof err === 'string') return new Error(err);
  return new Error(`Non-error thrown: ${String(err)}`);
}
