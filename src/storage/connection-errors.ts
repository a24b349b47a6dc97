import type { ConnectionTarget } from '../config/connection-string.js';
import { CuttleError } from '../lib/errors.js';
import { dialectFactory } from './dialects/registry.js';

/**
 * Turns a driver's connection failure into a message an admin can act on, in the words of the
 * target's engine (DialectFactory.classifyConnectionError). The driver's own text is not echoed
 * where it may carry the connection string (with its password).
 */
export function classifyConnectionError(err: unknown, target: ConnectionTarget): CuttleError {
  if (err instanceof CuttleError) return err;
  return dialectFactory(target.engine).classifyConnectionError(err, target);
}
