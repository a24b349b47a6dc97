/**
 * How a request names its user (auth-hook.ts): an API key in Octopus's header, or the same key
 * as a bearer token (what the official client sends for `accessToken`). Either one will do.
 */
export const API_KEY_SCHEMES = {
  ApiKey: {
    type: 'apiKey',
    in: 'header',
    name: 'X-Octopus-ApiKey',
    description:
      'An API key, API- and 30 upper-case letters or digits. The first start prints the key of the user "admin"; ' +
      '`cuttle user create --username NAME --role deployer|administrator` or POST /api/users/{id}/apikeys makes more. ' +
      'A missing or wrong key gets 401; a deployer key gets 403 for what only administrators may do.',
  },
  Bearer: {
    type: 'http',
    scheme: 'bearer',
    description: 'The same API key as `Authorization: Bearer API-...`.',
  },
} as const;
