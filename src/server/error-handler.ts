import type { FastifyError, FastifyInstance } from 'fastify';
import { CuttleError, type ErrorCode } from '../lib/errors.js';
import { httpStatusFor } from '../lib/exit-codes.js';
import { redactText } from '../lib/redact.js';

/**
 * Octopus's error body: the client prints ErrorMessage, then each of Errors on its own line.
 * `Code` is Cuttle's addition: the stable code of error-codes.ts, for scripts (clients that do
 * not know it ignore it).
 */
export interface ErrorBody {
  ErrorMessage: string;
  Errors: string[];
  Code: ErrorCode;
}

export function errorBody(
  message: string,
  errors: string[] = [],
  code: ErrorCode = 'REQUEST_INVALID',
): ErrorBody {
  return { ErrorMessage: redactText(message), Errors: errors.map(redactText), Code: code };
}

/**
 * The one place where errors become HTTP answers: CuttleError kinds through `httpStatusFor`,
 * schema validation and body parsing as 400, anything else as 500 with a generic message (the
 * detail goes to the log, never to the client, since it may quote internals).
 */
export function installErrorHandler(app: FastifyInstance): void {
  app.setErrorHandler((err: FastifyError, req, reply) => {
    if (err instanceof CuttleError) {
      return reply
        .status(httpStatusFor(err))
        .send(errorBody(err.message, [...err.details, ...err.hints], err.code));
    }
    if (err.validation) {
      return reply.status(400).send(
        errorBody(
          'There was a problem with your request.',
          err.validation.map((v) =>
            `${err.validationContext ?? 'request'}${v.instancePath} ${v.message ?? ''}`.trim(),
          ),
        ),
      );
    }
    const status = err.statusCode && err.statusCode >= 400 && err.statusCode < 500 ? err.statusCode : 500;
    if (status === 500) {
      req.log.error({ err: { message: redactText(err.message), stack: err.stack } }, 'request failed');
      return reply
        .status(500)
        .send(
          errorBody(
            'The server failed to process the request. See the server log for details.',
            [],
            'INTERNAL_ERROR',
          ),
        );
    }
    return reply.status(status).send(errorBody(err.message));
  });
  app.setNotFoundHandler((req, reply) => {
    reply
      .status(404)
      .send(errorBody(`The resource ${req.method} ${req.url.split('?')[0]} was not found.`, [], 'NOT_FOUND'));
  });
}
