import { Type } from 'typebox';
import { revokeApiKey } from '../../core/api-key-service.js';
import { SESSION_MAX_MS, signIn, signOut } from '../../core/session-service.js';
import { requireUser, userResource } from '../../core/user-service.js';
import { UsageError } from '../../lib/errors.js';
import { clearSessionCookies, setSessionCookies } from '../portal/cookies.js';
import type { App, RouteDeps } from '../route-deps.js';
import { Bool, responses, Str } from '../schemas/common-schemas.js';
import { UserSchema } from '../schemas/resource-schemas.js';

const tags = ['Sessions'];

/**
 * Octopus's portal sign-in: `POST /api/users/login` sets the session cookie (HttpOnly) and the
 * CSRF cookie and answers the user; `POST /api/users/logout` ends the session. The login route is
 * anonymous; it accepts only a JSON body, which a cross-site form cannot send.
 */
export function sessionRoutes(app: App, { db }: RouteDeps): void {
  app.post(
    '/api/users/login',
    {
      config: { anonymous: true },
      schema: {
        tags,
        summary: 'Sign in to the portal with username and password: sets the session and CSRF cookies',
        body: Type.Object({
          Username: Type.String({ minLength: 1, maxLength: 200 }),
          Password: Type.String({ minLength: 1, maxLength: 1000 }),
          RememberMe: Type.Optional(Bool),
        }),
        response: responses(UserSchema),
      },
    },
    async (req, reply) => {
      const { token, session } = await signIn(db, {
        username: req.body.Username,
        password: req.body.Password,
      });
      setSessionCookies(req, reply, token, session.csrfToken, Math.floor(SESSION_MAX_MS / 1000));
      return userResource(await requireUser(db, session.actor.userId!));
    },
  );

  app.post(
    '/api/users/logout',
    {
      schema: {
        tags,
        summary: 'Sign out of the portal: ends the session on every node and clears its cookies',
        response: responses(Type.Object({ SignedOut: Bool })),
      },
    },
    async (req, reply) => {
      if (!req.portalSession)
        throw new UsageError('Sign-out ends a portal session; this request used an API key.', {
          code: 'SESSION_NOT_USED',
        });
      await signOut(db, req.portalSession);
      clearSessionCookies(req, reply);
      return { SignedOut: true };
    },
  );

  app.delete(
    '/api/users/:id/apikeys/:keyId',
    {
      schema: {
        tags: ['Users'],
        summary: "Revoke an API key (one's own, or any for administrators)",
        params: Type.Object({ id: Str, keyId: Str }),
        response: responses(Type.Object({ Revoked: Bool })),
      },
    },
    async (req) => {
      await revokeApiKey(db, req.actor, req.params.id, req.params.keyId);
      return { Revoked: true };
    },
  );
}
