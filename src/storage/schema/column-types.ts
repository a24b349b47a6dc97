/**
 * Logical column types. Every column of every table has one, and everything that moves data between
 * engines (backup, restore, move, verification) works from these, never from engine-native types.
 *
 *  id        application-made key (`Projects-12`); compared and sorted bytewise on every engine
 *  text      short text (names, states), indexable, bytewise collation
 *  longtext  unbounded text (scripts, logs, JSON documents)
 *  json      JSON kept as text so its bytes (and hashes) never change; parsed by the application
 *  int       32-bit integer
 *  bigint    integer kept below 2^53 so it stays a JS number (counters, change numbers, sizes)
 *  int64     full 64-bit integer, a decimal string in TypeScript
 *  bool      boolean (0/1 on SQLite and MySQL, boolean on PostgreSQL)
 *  timestamp UTC instant at millisecond precision, canonical text `YYYY-MM-DDTHH:MM:SS.mmmZ`
 *  blob      bytes
 */
export type LogicalType =
  | 'id'
  | 'text'
  | 'longtext'
  | 'json'
  | 'int'
  | 'bigint'
  | 'int64'
  | 'bool'
  | 'timestamp'
  | 'blob';

export interface ColumnSpec {
  name: string;
  type: LogicalType;
  nullable?: boolean;
}

export interface IndexSpec {
  name: string;
  columns: string[];
  unique?: boolean;
}

export interface TableSpec {
  name: string;
  columns: ColumnSpec[];
  primaryKey: string[];
  indexes?: IndexSpec[];
}
