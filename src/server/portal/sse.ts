import type { FastifyReply, FastifyRequest } from 'fastify';

/** One server-sent-events connection: named events with JSON data, a comment every 15 s to keep proxies open. */
export interface SseClient {
  send(event: string, data: unknown): void;
  close(): void;
  readonly closed: boolean;
  onClose(fn: () => void): void;
}

const KEEPALIVE_MS = 15_000;

export function openSse(req: FastifyRequest, reply: FastifyReply): SseClient {
  reply.hijack();
  const res = reply.raw;
  res.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
  });
  res.write('retry: 2000\n\n');
  let closed = false;
  const listeners: (() => void)[] = [];
  const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
  keepalive.unref();
  const end = () => {
    if (closed) return;
    closed = true;
    clearInterval(keepalive);
    for (const fn of listeners) fn();
    res.end();
  };
  req.raw.on('close', end);
  res.on('error', end);
  return {
    send(event, data) {
      if (!closed) res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);
    },
    close: end,
    get closed() {
      return closed;
    },
    onClose(fn) {
      listeners.push(fn);
    },
  };
}
