import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../route-deps.js';

/**
 * The portal's files, built by `npm run build` (`vite build` into dist/web, at install time by
 * `prepare`) and served by the server itself at /app. They are read once into memory with a
 * gzip copy: the whole portal is a few hundred KB. Hashed assets are cached for a year; the page
 * itself is revalidated, so a new build shows on the next reload.
 */
const PORTAL_DIR = path.resolve(import.meta.dirname, '../../../dist/web');

interface Asset {
  body: Buffer;
  gzip?: Buffer;
  type: string;
  immutable: boolean;
}

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.txt': 'text/plain; charset=utf-8',
  '.woff2': 'font/woff2',
};

// CodeMirror writes its theme into <style> elements, hence 'unsafe-inline' for styles only.
const CSP =
  "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

function load(dir: string): Map<string, Asset> {
  const out = new Map<string, Asset>();
  const walk = (d: string) => {
    for (const name of fs.readdirSync(d)) {
      const p = path.join(d, name);
      if (fs.statSync(p).isDirectory()) walk(p);
      else {
        const rel = path.relative(dir, p).split(path.sep).join('/');
        const body = fs.readFileSync(p);
        const type = TYPES[path.extname(name)] ?? 'application/octet-stream';
        const compressible = /text|json|svg/.test(type) && body.length > 512;
        out.set(rel, {
          body,
          gzip: compressible ? gzipSync(body, { level: 9 }) : undefined,
          type,
          immutable: rel.startsWith('assets/'),
        });
      }
    }
  };
  walk(dir);
  return out;
}

const NOT_BUILT = `<!doctype html><html lang="en"><meta charset="utf-8"><title>Cuttle</title>
<body style="font-family:sans-serif;max-width:40rem;margin:3rem auto"><h1>The portal is not built</h1>
<p>This server runs from sources without a build of the web portal. Run <code>npm run build</code>
(<code>npm install</code> does it), then reload this page. The REST API works at <code>/api</code>.</p></body></html>`;

export function portalRoutes(app: App, _deps: RouteDeps, dir = PORTAL_DIR): void {
  let assets: Map<string, Asset> | undefined;
  const files = () => {
    if (!assets && fs.existsSync(path.join(dir, 'index.html'))) assets = load(dir);
    return assets;
  };
  const send = (req: FastifyRequest, reply: FastifyReply, a: Asset) => {
    reply
      .header('content-type', a.type)
      .header('x-content-type-options', 'nosniff')
      .header('referrer-policy', 'same-origin')
      .header('cache-control', a.immutable ? 'public, max-age=31536000, immutable' : 'no-cache')
      .header('vary', 'accept-encoding');
    if (a.type.startsWith('text/html'))
      reply.header('content-security-policy', CSP).header('x-frame-options', 'DENY');
    const accepts = String(req.headers['accept-encoding'] ?? '');
    if (a.gzip && /\bgzip\b/.test(accepts)) return reply.header('content-encoding', 'gzip').send(a.gzip);
    return reply.send(a.body);
  };
  const opts = { config: { anonymous: true }, schema: { hide: true } };

  app.get('/', opts, async (_req, reply) => reply.redirect('/app', 302));
  const page = async (req: FastifyRequest, reply: FastifyReply) => {
    const index = files()?.get('index.html');
    if (!index) return reply.status(503).type('text/html; charset=utf-8').send(NOT_BUILT);
    return send(req, reply, index);
  };
  app.get('/app', opts, page);
  app.get('/app/*', opts, async (req, reply) => {
    const rel = (req.params as { '*': string })['*'];
    if (rel === '' || rel === 'index.html') return page(req, reply);
    const a = files()?.get(rel);
    if (!a) return reply.status(404).type('text/plain; charset=utf-8').send('Not found');
    return send(req, reply, a);
  });
}
