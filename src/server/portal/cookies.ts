import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * Octopus's cookie and header names: the session in `OctopusIdentificationToken` (HttpOnly, so a
 * script on the page can never read it), the CSRF token in `Octopus-Csrf-Token` (readable by the
 * portal, which echoes it in the `X-Octopus-Csrf-Token` header). Both SameSite=Strict: a request
 * another site starts carries neither.
 */
export const SESSION_COOKIE = 'OctopusIdentificationToken';
export const CSRF_COOKIE = 'Octopus-Csrf-Token';
export const CSRF_HEADER = 'x-octopus-csrf-token';

export function readCookie(req: FastifyRequest, name: string): string | undefined {
  const header = req.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0) continue;
    if (part.slice(0, eq).trim() !== name) continue;
    const value = part.slice(eq + 1).trim();
    try {
      return decodeURIComponent(value) || undefined;
    } catch {
      return undefined;
    }
  }
  return undefined;
}

/** Secure when the client reached us over https (a TLS proxy in front says so). */
function secure(req: FastifyRequest): boolean {
  const proto = req.headers['x-forwarded-proto'];
  return (Array.isArray(proto) ? proto[0] : proto)?.split(',')[0]?.trim() === 'https';
}

function cookie(
  req: FastifyRequest,
  name: string,
  value: string,
  opts: { httpOnly: boolean; maxAgeS: number },
) {
  const parts = [
    `${name}=${encodeURIComponent(value)}`,
    'Path=/',
    'SameSite=Strict',
    `Max-Age=${opts.maxAgeS}`,
  ];
  if (opts.httpOnly) parts.push('HttpOnly');
  if (secure(req)) parts.push('Secure');
  return parts.join('; ');
}

export function setSessionCookies(
  req: FastifyRequest,
  reply: FastifyReply,
  token: string,
  csrf: string,
  maxAgeS: number,
): void {
  reply.header('set-cookie', [
    cookie(req, SESSION_COOKIE, token, { httpOnly: true, maxAgeS }),
    cookie(req, CSRF_COOKIE, csrf, { httpOnly: false, maxAgeS }),
  ]);
}

export function clearSessionCookies(req: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', [
    cookie(req, SESSION_COOKIE, '', { httpOnly: true, maxAgeS: 0 }),
    cookie(req, CSRF_COOKIE, '', { httpOnly: false, maxAgeS: 0 }),
  ]);
}
