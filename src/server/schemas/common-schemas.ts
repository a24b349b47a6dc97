import { type TSchema, Type } from 'typebox';
import { INT32_MAX, INT32_MIN } from '../../lib/portable-domain.js';

/** Building blocks of the response schemas. Undeclared fields are dropped by the serializer. */
export const Str = Type.String();
/**
 * A string or null, as one JSON-Schema type list rather than anyOf: Ajv's type coercion (on for
 * query strings) would otherwise turn a body's null into "" through the first anyOf branch.
 */
export const NStr = Type.Unsafe<string | null>({ type: ['string', 'null'] });
export const Bool = Type.Boolean();
/**
 * A request flag of the Executions API: true or false, or "true"/"True" as text, which Octopus's
 * binder accepts too. (anyOf, boolean first: coercion turns "true" into true and leaves "True" to
 * the string branch; the body binder reads both as true.)
 */
export const Flag = (description: string) =>
  Type.Unsafe<boolean | string>({ anyOf: [{ type: 'boolean' }, { type: 'string' }], description });
export const Int = Type.Integer();
/**
 * Integers a request may carry, within what every engine stores (the portable domain): a 32-bit
 * column's range, and paging values up to Octopus's own take=2147483647. Without the bounds,
 * `skip=1e309` coerces to Infinity and reaches the database.
 */
export const Int32 = (opts: { minimum?: number; description?: string } = {}) =>
  Type.Integer({ minimum: INT32_MIN, maximum: INT32_MAX, ...opts });
export const PageValue = Type.Integer({ minimum: 0, maximum: INT32_MAX });
export const Links = Type.Record(Type.String(), Type.String());
export const StrList = Type.Array(Type.String());
/** Free-form JSON (process steps, task arguments): serialized as it is. */
export const AnyJson = Type.Unknown();

const ErrorSchema = Type.Object(
  {
    ErrorMessage: Str,
    Errors: StrList,
    Code: Type.String({ description: 'Stable error code (docs/reference/error-codes.md)' }),
  },
  { $id: 'Error', description: "Octopus's error body, with Cuttle's stable error code" },
);

export const IdParams = Type.Object({ id: Str });
export const SpaceParams = Type.Object({ spaceId: Str });
export const SpaceIdParams = Type.Object({ spaceId: Str, id: Str });

/** Declares the usual error answers next to a route's success schema. */
export function responses(ok: TSchema, status = 200): Record<number, TSchema> {
  return {
    [status]: ok,
    400: ErrorSchema,
    401: ErrorSchema,
    403: ErrorSchema,
    404: ErrorSchema,
    409: ErrorSchema,
  };
}
