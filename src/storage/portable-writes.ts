import {
  ColumnNode,
  ColumnUpdateNode,
  InsertQueryNode,
  type KyselyPlugin,
  type OperationNode,
  type PluginTransformQueryArgs,
  type PluginTransformResultArgs,
  PrimitiveValueListNode,
  type QueryResult,
  type RootOperationNode,
  TableNode,
  type UnknownRow,
  UpdateQueryNode,
  ValueListNode,
  ValueNode,
  ValuesNode,
} from 'kysely';
import { UsageError } from '../lib/errors.js';
import { INT32_MAX, INT32_MIN, SHORT_TEXT_MAX, textProblem } from '../lib/portable-domain.js';
import type { LogicalType } from './schema/column-types.js';
import { TABLES } from './schema/tables.js';

const TYPES = new Map(TABLES.map((t) => [t.name, new Map(t.columns.map((c) => [c.name, c.type]))]));

/**
 * Refuses, before it reaches the engine, an application write of a value outside the portable
 * domain (lib/portable-domain.ts): too long for a short-text column on MySQL, a NUL, a lone
 * surrogate, an integer out of its column's range. Without it the value lands on the engines that
 * accept it and the data is stuck there: a later move or restore fails at the copy.
 * Bulk loads (move, restore) do not go through Kysely inserts and are not slowed by it.
 */
export class PortableWritesPlugin implements KyselyPlugin {
  transformQuery(args: PluginTransformQueryArgs): RootOperationNode {
    const node = args.node;
    if (InsertQueryNode.is(node)) checkInsert(node);
    else if (UpdateQueryNode.is(node)) checkUpdate(node);
    return node;
  }

  async transformResult(args: PluginTransformResultArgs): Promise<QueryResult<UnknownRow>> {
    return args.result;
  }
}

function checkInsert(node: InsertQueryNode): void {
  const table = node.into?.table.identifier.name;
  const columns = node.columns?.map((c) => c.column.name);
  if (!table || !columns || !node.values || !ValuesNode.is(node.values)) return;
  for (const row of node.values.values) {
    const values = PrimitiveValueListNode.is(row)
      ? row.values
      : ValueListNode.is(row)
        ? row.values.map(nodeValue)
        : [];
    values.forEach((v, i) => {
      check(table, columns[i]!, v);
    });
  }
}

function checkUpdate(node: UpdateQueryNode): void {
  const target = node.table;
  const table = target && TableNode.is(target) ? target.table.identifier.name : undefined;
  if (!table || !node.updates) return;
  for (const u of node.updates) {
    if (!ColumnUpdateNode.is(u) || !ColumnNode.is(u.column)) continue;
    check(table, u.column.column.name, nodeValue(u.value));
  }
}

function nodeValue(n: OperationNode): unknown {
  return ValueNode.is(n) ? n.value : undefined;
}

function check(table: string, column: string, value: unknown): void {
  const type = TYPES.get(table)?.get(column);
  if (!type) return;
  const problem = problemOf(type, value);
  if (!problem) return;
  throw new UsageError(`The ${column} of ${table} ${problem}.`, {
    code: problem.startsWith('holds')
      ? 'VALUE_NOT_PORTABLE'
      : typeof value === 'string'
        ? 'VALUE_TOO_LONG'
        : 'VALUE_OUT_OF_RANGE',
    hints: [
      'Cuttle keeps only values that every engine it supports stores the same way, so the data can always move (docs/architecture.md, "The portable domain").',
    ],
  });
}

function problemOf(type: LogicalType, v: unknown): string | undefined {
  if (typeof v === 'string') {
    const text = textProblem(v);
    if (text) return text;
    if ((type === 'id' || type === 'text') && v.length > SHORT_TEXT_MAX)
      return `is ${v.length} characters long; at most ${SHORT_TEXT_MAX} fit on every engine`;
    return undefined;
  }
  if (typeof v === 'number') {
    if (type === 'int' && (!Number.isInteger(v) || v < INT32_MIN || v > INT32_MAX))
      return `is ${v}, outside the 32-bit range every engine holds (${INT32_MIN} to ${INT32_MAX})`;
    if (type === 'bigint' && !Number.isSafeInteger(v))
      return `is ${v}, outside the exact integers every engine holds (below 2^53)`;
  }
  return undefined;
}
