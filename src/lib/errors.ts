/**
 * Typed errors. Every failure a user can cause or meet is one of these classes; the CLI maps
 * them to exit codes and the HTTP layer to statuses in exactly one place each
 * (cli/exit-codes.ts, server/error-handler.ts), so a message never depends on where it surfaced.
 *
 * Messages MUST NOT contain secrets: build them from redacted connection strings
 * (config/connection-string.ts `describeTarget`) and never from raw user input that may hold a password.
 */
import type { CodeOfKind, ErrorCode, ErrorKind } from './error-codes.js';

export type { ErrorCode, ErrorKind } from './error-codes.js';

interface BaseOptions {
  /** The stable code from the catalog (error-codes.ts): required, so every failure names itself. */
  code: ErrorCode;
  hints?: string[];
  details?: string[];
  cause?: unknown;
}

/** A class of one kind accepts only that kind's codes, so code and exit status cannot disagree. */
type ErrorOptions<K extends ErrorKind> = Omit<BaseOptions, 'code'> & { code: CodeOfKind<K> };

export class CuttleError extends Error {
  readonly kind: ErrorKind;
  /** Stable across releases and wordings: what scripts and tests match on. */
  readonly code: ErrorCode;
  /** Lines that tell the user how to fix it; printed after the message. */
  readonly hints: string[];
  /** Extra detail lines (Octopus's `Errors` array). */
  readonly details: string[];

  constructor(kind: ErrorKind, message: string, opts: BaseOptions) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.kind = kind;
    this.code = opts.code;
    this.hints = opts.hints ?? [];
    this.details = opts.details ?? [];
    this.name = new.target.name;
  }
}

export class UsageError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'usage'>) {
    super('usage', message, opts);
  }
}

/** Bad input or a state that forbids the action; nothing was changed. */
export class PreconditionError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'precondition'>) {
    super('precondition', message, opts);
  }
}

export class NotFoundError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'not-found'>) {
    super('not-found', message, opts);
  }
}

export class ConflictError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'conflict'>) {
    super('conflict', message, opts);
  }
}

export class ForbiddenError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'forbidden'>) {
    super('forbidden', message, opts);
  }
}

export class UnauthorizedError extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'unauthorized'>) {
    super('unauthorized', message, opts);
  }
}

export class MaintenanceModeError extends CuttleError {
  constructor(
    message = 'Cuttle is in maintenance mode: only administrators can make changes until it is turned off.',
  ) {
    super('maintenance', message, {
      code: 'MAINTENANCE_MODE',
      hints: ['An administrator can turn it off with `cuttle maintenance --off`.'],
    });
  }
}

export class RuntimeFailure extends CuttleError {
  constructor(message: string, opts: ErrorOptions<'runtime'>) {
    super('runtime', message, opts);
  }
}
