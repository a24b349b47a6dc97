import createClient, { type Middleware } from 'openapi-fetch';
import type { components, paths } from './schema.gen';

/**
 * The typed API client: paths, parameters and bodies come from docs/openapi.json (generated in the
 * build), so a field the server renames fails the portal's type check. Requests go with the
 * session cookie; every state-changing one carries the CSRF token the server set in a readable cookie.
 */
export type Schemas = components['schemas'];

type OkBody<T> = T extends { responses: { 200: { content: { 'application/json': infer R } } } }
  ? R
  : T extends { responses: { 201: { content: { 'application/json': infer R } } } }
    ? R
    : never;
/** The success body of a route, e.g. `Answer<'/api/portal/status', 'get'>`. */
export type Answer<P extends keyof paths, M extends keyof paths[P]> = OkBody<paths[P][M]>;

/**
 * A failed API call as the server described it: HTTP status (0: no answer), ErrorMessage, Errors
 * (details and hints) and Code, the stable error code (src/lib/error-codes.ts).
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors: string[] = [],
    readonly code?: string,
  ) {
    super(message);
  }
}

export function readCookie(name: string): string | undefined {
  for (const part of document.cookie.split(';')) {
    const [k, ...v] = part.trim().split('=');
    if (k === name) return decodeURIComponent(v.join('='));
  }
  return undefined;
}

export const CSRF_COOKIE = 'Octopus-Csrf-Token';
export const CSRF_HEADER = 'X-Octopus-Csrf-Token';

const csrf: Middleware = {
  onRequest({ request }) {
    if (request.method !== 'GET' && request.method !== 'HEAD') {
      const token = readCookie(CSRF_COOKIE);
      if (token) request.headers.set(CSRF_HEADER, token);
    }
    return request;
  },
};

/** Called when the server says the session has ended (401): the app shows the sign-in page. */
let onSignedOut: () => void = () => {};
export function whenSignedOut(fn: () => void): void {
  onSignedOut = fn;
}

export const api = createClient<paths>({ baseUrl: '', credentials: 'same-origin' });
api.use(csrf);

interface Reply<T> {
  data?: T;
  error?: unknown;
  response: Response;
}

/** The data of an answer, or an ApiError with the server's ErrorMessage, Errors and Code. */
export async function ok<T>(p: Promise<Reply<T>>): Promise<T> {
  let r: Reply<T>;
  try {
    r = await p;
  } catch {
    throw new ApiError(0, 'The server cannot be reached. It may be restarting; try again in a moment.');
  }
  if (r.response.ok) return r.data as T;
  const body = (r.error && typeof r.error === 'object' ? r.error : {}) as {
    ErrorMessage?: string;
    Errors?: string[];
    Code?: string;
  };
  if (r.response.status === 401 && !r.response.url.endsWith('/api/users/login')) onSignedOut();
  throw new ApiError(
    r.response.status,
    body.ErrorMessage ?? `The server answered ${r.response.status}.`,
    Array.isArray(body.Errors) ? body.Errors : [],
    typeof body.Code === 'string' ? body.Code : undefined,
  );
}
