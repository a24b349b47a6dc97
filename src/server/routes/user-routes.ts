import { Type } from 'typebox';
import { isRole } from '../../core/actor.js';
import {
  addApiKey,
  apiKeyResource,
  createUser,
  currentUser,
  listUserResources,
  requireUser,
  userResource,
} from '../../core/user-service.js';
import { UsageError } from '../../lib/errors.js';
import { listUserApiKeys } from '../../storage/repositories/user-repository.js';
import { Collection, collection, ListQuery, listFilter } from '../collection.js';
import type { App, RouteDeps } from '../route-deps.js';
import { IdParams, NStr, responses } from '../schemas/common-schemas.js';
import { ApiKeySchema, UserSchema } from '../schemas/resource-schemas.js';

const NewUserBody = Type.Object({
  Username: Type.String({ minLength: 1 }),
  DisplayName: Type.Optional(Type.String()),
  EmailAddress: Type.Optional(NStr),
  Password: Type.Optional(NStr),
  IsService: Type.Optional(Type.Boolean()),
  CuttleRole: Type.Optional(Type.String()),
});

const tags = ['Users'];

export function userRoutes(app: App, { db }: RouteDeps): void {
  app.get(
    '/api/users/me',
    { schema: { tags, summary: 'The user of the API key', response: responses(UserSchema) } },
    async (req) => userResource(await currentUser(db, req.actor)),
  );
  app.get(
    '/api/users',
    {
      schema: {
        tags,
        summary: 'The users',
        querystring: ListQuery,
        response: responses(Collection(UserSchema)),
      },
    },
    async (req) => {
      const f = listFilter(req.query);
      return collection('User', await listUserResources(db, f), f, '/api/users');
    },
  );
  app.get(
    '/api/users/:id',
    { schema: { tags, summary: 'A user', params: IdParams, response: responses(UserSchema) } },
    async (req) => userResource(await requireUser(db, req.params.id)),
  );
  app.post(
    '/api/users',
    {
      schema: {
        tags,
        summary: 'Create a user; CuttleRole is administrator or deployer (default deployer)',
        body: NewUserBody,
        response: responses(UserSchema, 201),
      },
    },
    async (req, reply) => {
      const role = req.body.CuttleRole ?? 'deployer';
      if (!isRole(role))
        throw new UsageError('CuttleRole must be administrator or deployer.', { code: 'REQUEST_INVALID' });
      const row = await createUser(db, req.actor, {
        username: req.body.Username,
        role,
        password: req.body.Password ?? undefined,
        displayName: req.body.DisplayName,
        email: req.body.EmailAddress ?? null,
        isService: req.body.IsService,
      });
      return reply.status(201).send(userResource(row));
    },
  );
  app.get(
    '/api/users/:id/apikeys',
    {
      schema: {
        tags,
        summary: "A user's API keys (never the keys themselves)",
        params: IdParams,
        response: responses(Collection(ApiKeySchema)),
      },
    },
    async (req) => {
      await requireUser(db, req.params.id);
      const rows = await listUserApiKeys(db, req.params.id);
      const f = { skip: 0, take: rows.length || 30 };
      return collection(
        'ApiKey',
        { total: rows.length, items: rows.map((r) => apiKeyResource(r)) },
        f,
        `/api/users/${req.params.id}/apikeys`,
      );
    },
  );
  app.post(
    '/api/users/:id/apikeys',
    {
      schema: {
        tags,
        summary: 'Create an API key; the key is in this answer only',
        params: IdParams,
        body: Type.Optional(Type.Object({ Purpose: Type.Optional(Type.String()) })),
        response: responses(ApiKeySchema, 201),
      },
    },
    async (req, reply) => {
      const { row, key } = await addApiKey(db, req.actor, req.params.id, req.body?.Purpose ?? 'API key');
      return reply.status(201).send(apiKeyResource(row, key));
    },
  );
}
