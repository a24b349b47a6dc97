import pino, { type DestinationStream, type Logger } from 'pino';
import { redactText } from '../lib/redact.js';

/**
 * The server's pino logger. API keys travel in headers, so header paths are redacted even though
 * Fastify's default request serializer does not log headers: a custom serializer or a debug
 * `req` dump must not leak them either. Every message also passes through `redactText`.
 */
const REDACT_PATHS = [
  'req.headers["x-octopus-apikey"]',
  'req.headers.authorization',
  'req.headers.cookie',
  'headers["x-octopus-apikey"]',
  'headers.authorization',
];

export function createServerLogger(level = 'info', destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: REDACT_PATHS, censor: '***' },
      hooks: {
        logMethod(args, method) {
          const masked = args.map((a) => (typeof a === 'string' ? redactText(a) : a)) as Parameters<
            typeof method
          >;
          method.apply(this, masked);
        },
      },
    },
    destination,
  );
}
