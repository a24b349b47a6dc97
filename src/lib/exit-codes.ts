import { CuttleError, type ErrorKind } from './errors.js';

/** The one place where error kinds become process exit codes: 0 ok, 1 usage, 2 precondition / bad input, 3 runtime. */
export const EXIT_OK = 0;
export const EXIT_USAGE = 1;
export const EXIT_PRECONDITION = 2;
const EXIT_RUNTIME = 3;

const byKind: Record<ErrorKind, number> = {
  usage: EXIT_USAGE,
  precondition: EXIT_PRECONDITION,
  'not-found': EXIT_PRECONDITION,
  conflict: EXIT_PRECONDITION,
  forbidden: EXIT_PRECONDITION,
  unauthorized: EXIT_PRECONDITION,
  maintenance: EXIT_PRECONDITION,
  runtime: EXIT_RUNTIME,
};

export function exitCodeForKind(kind: ErrorKind): number {
  return byKind[kind];
}

export function exitCodeFor(err: unknown): number {
  return err instanceof CuttleError ? byKind[err.kind] : EXIT_RUNTIME;
}

/** The one place where error kinds become HTTP statuses. */
const statusByKind: Record<ErrorKind, number> = {
  usage: 400,
  precondition: 400,
  'not-found': 404,
  conflict: 409,
  forbidden: 403,
  unauthorized: 401,
  maintenance: 409,
  runtime: 500,
};

export function httpStatusForKind(kind: ErrorKind): number {
  return statusByKind[kind];
}

export function httpStatusFor(err: unknown): number {
  return err instanceof CuttleError ? statusByKind[err.kind] : 500;
}
