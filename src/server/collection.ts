import { type TSchema, Type } from 'typebox';
import type { ListFilter } from '../storage/repositories/list-query.js';
import { PageValue } from './schemas/common-schemas.js';

/**
 * Octopus collections: `{ItemType, TotalResults, ItemsPerPage, NumberOfPages, LastPageNumber,
 * Items, Links}`. Default take is 30; the client resolves spaces with take=2147483647, so a large
 * take is accepted as it is (the database limits the rows, not a validator).
 */
export const DEFAULT_TAKE = 30;

const StringOrList = Type.Union([Type.String(), Type.Array(Type.String())]);

export const ListQuery = Type.Object({
  skip: Type.Optional(PageValue),
  take: Type.Optional(PageValue),
  ids: Type.Optional(StringOrList),
  partialName: Type.Optional(Type.String()),
});

export interface ListQueryValue {
  skip?: number;
  take?: number;
  ids?: string | string[];
  partialName?: string;
}

/** `ids` arrives as one comma-joined value (the client) or as repeated keys (browsers, curl). */
export function splitList(v: string | string[] | undefined): string[] | undefined {
  if (v === undefined) return undefined;
  const parts = (Array.isArray(v) ? v : [v])
    .flatMap((s) => s.split(','))
    .map((s) => s.trim())
    .filter(Boolean);
  return parts;
}

export function listFilter(q: ListQueryValue): ListFilter {
  const ids = splitList(q.ids);
  return {
    ids: ids?.length ? ids : undefined,
    partialName: q.partialName?.trim() || undefined,
    skip: q.skip ?? 0,
    take: q.take ?? DEFAULT_TAKE,
  };
}

export function Collection<T extends TSchema>(item: T) {
  return Type.Object({
    ItemType: Type.String(),
    TotalResults: Type.Integer(),
    ItemsPerPage: Type.Integer(),
    NumberOfPages: Type.Integer(),
    LastPageNumber: Type.Integer(),
    Items: Type.Array(item),
    Links: Type.Record(Type.String(), Type.String()),
  });
}

export function collection<T>(
  itemType: string,
  page: { total: number; items: T[] },
  f: ListFilter,
  self: string,
) {
  const per = Math.max(1, Math.min(f.take, 2147483647));
  const pages = Math.max(1, Math.ceil(page.total / per));
  return {
    ItemType: itemType,
    TotalResults: page.total,
    ItemsPerPage: f.take,
    NumberOfPages: pages,
    LastPageNumber: pages - 1,
    Items: page.items,
    Links: { Self: self, 'Page.Current': `${self}?skip=${f.skip}&take=${f.take}` },
  };
}
