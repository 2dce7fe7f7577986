/**
 * Column values between MySQL and the user's record types, without loss.
 *
 * In (sources): a row as mysql2 or the binlog decoder gives it — DECIMAL and
 * BIGINT as text (or a safe integer), dates as text in UTC, JSON as text (or
 * already parsed), BLOBs as Buffers, NULL as null — and the declared kind of
 * each field (SourceContext.columnTypes, from the TypeScript row type). Out:
 * the row with each value as the declared type; a value that the declared
 * type cannot hold exactly (a BIGINT past 2^53 for a `number`, microseconds
 * for a Date, text that is not JSON) is an error naming the column, which the
 * source sends to the dead-letter output.
 *
 * | declared   | from                                                       |
 * |------------|------------------------------------------------------------|
 * | string     | any column as its text (DECIMAL exactly, DATETIME as `YYYY-MM-DD HH:MM:SS[.ffffff]`, BLOB as UTF-8, JSON as its text) |
 * | number     | integers within ±2^53, FLOAT/DOUBLE, DECIMAL whose value a double holds exactly at its scale, YEAR |
 * | bigint     | integer columns of any size, DECIMAL with no fraction       |
 * | boolean    | TINYINT(1)/BOOLEAN and BIT(1): 0 is false, anything else true |
 * | Date       | DATE, DATETIME, TIMESTAMP (read as UTC) up to milliseconds  |
 * | Buffer / Uint8Array | BLOB, BINARY, VARBINARY, BIT (text columns as UTF-8 bytes) |
 * | object, array, unknown | JSON (parsed)                                  |
 * | T \| null  | NULL is null, whatever the declared type                    |
 *
 * Out (sinks): `sqlLiteral` writes a JavaScript value as SQL: bigint as its
 * digits, Date as UTC `YYYY-MM-DD HH:MM:SS.mmm`, Buffer/Uint8Array as
 * X'..', booleans as 1/0, objects and arrays as JSON text, null as NULL and a
 * missing field as DEFAULT.
 */
import mysql from 'mysql2';

/** Converts one row to the declared field types; throws an Error naming the column when a value does not fit. */
export type RowConverter = (row: Record<string, unknown>) => Record<string, unknown>;

const DATE_TEXT = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2}):(\d{2})(?:\.(\d{1,6}))?)?$/;
const INTEGER_TEXT = /^-?\d+$/;
const DECIMAL_TEXT = /^(-?\d+)(?:\.(\d+))?$/;

function textOf(value: unknown): string {
  if (typeof value === 'string') return value;
  if (Buffer.isBuffer(value)) return value.toString('utf8');
  if (typeof value === 'number' || typeof value === 'bigint' || typeof value === 'boolean') return String(value);
  if (value instanceof Date) return value.toISOString();
  return JSON.stringify(value);
}

function toNumber(value: unknown): number {
  if (typeof value === 'number') return value;
  if (typeof value === 'string') {
    if (INTEGER_TEXT.test(value)) {
      const n = Number(value);
      if (!Number.isSafeInteger(n)) throw new Error(`${value} is beyond the integers a number holds exactly (±2^53): declare the field bigint or string`);
      return n;
    }
    const decimal = DECIMAL_TEXT.exec(value);
    if (decimal) {
      const n = Number(value);
      // Exact when the nearest double prints back as the same decimal at the column's scale.
      if (n.toFixed(decimal[2]?.length ?? 0) !== value.replace(/^-0(\.0*)?$/, (m) => m.slice(1))) throw new Error(`${value} has no exact number: declare the field string`);
      return n;
    }
    const n = Number(value);
    if (value.trim() !== '' && !Number.isNaN(n)) return n;
  }
  if (Buffer.isBuffer(value) && value.length <= 6) return value.length === 0 ? 0 : value.readUIntBE(0, value.length);
  throw new Error(`${describe(value)} is not a number`);
}

function toBigint(value: unknown): bigint {
  if (typeof value === 'bigint') return value;
  if (typeof value === 'number' && Number.isInteger(value)) return BigInt(value);
  if (typeof value === 'string') {
    if (INTEGER_TEXT.test(value)) return BigInt(value);
    const decimal = DECIMAL_TEXT.exec(value);
    if (decimal && /^0*$/.test(decimal[2] ?? '')) return BigInt(decimal[1]);
  }
  if (Buffer.isBuffer(value)) return value.length === 0 ? 0n : BigInt(`0x${value.toString('hex')}`);
  throw new Error(`${describe(value)} is not an integer`);
}

function toBoolean(value: unknown): boolean {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'number') return value !== 0;
  if (typeof value === 'string' && INTEGER_TEXT.test(value)) return BigInt(value) !== 0n;
  if (Buffer.isBuffer(value)) return value.some((b) => b !== 0);
  throw new Error(`${describe(value)} is not a boolean (a TINYINT(1), BOOLEAN or BIT(1) column)`);
}

function toDate(value: unknown): Date {
  if (value instanceof Date) return value;
  const match = typeof value === 'string' ? DATE_TEXT.exec(value) : null;
  if (!match) throw new Error(`${describe(value)} is not a date`);
  const [, y, mo, d, h = '0', mi = '0', s = '0', fraction = ''] = match;
  if (Number(y) === 0 || Number(mo) === 0 || Number(d) === 0) throw new Error(`${value} is a zero date, which a Date cannot hold: declare the field string`);
  if (/[1-9]/.test(fraction.slice(3))) throw new Error(`${value} has microseconds, which a Date cannot hold: declare the field string`);
  return new Date(Date.UTC(Number(y), Number(mo) - 1, Number(d), Number(h), Number(mi), Number(s), Number(fraction.slice(0, 3).padEnd(3, '0'))));
}

function toBytes(value: unknown): Buffer {
  if (Buffer.isBuffer(value)) return value;
  if (value instanceof Uint8Array) return Buffer.from(value);
  if (typeof value === 'string') return Buffer.from(value, 'utf8');
  throw new Error(`${describe(value)} is not binary`);
}

function toJson(value: unknown): unknown {
  if (typeof value === 'string' || Buffer.isBuffer(value)) {
    const text = textOf(value);
    try { return JSON.parse(text); } catch { throw new Error(`'${text.slice(0, 60)}' is not JSON`); }
  }
  return value;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return `'${value.slice(0, 60)}'`;
  if (Buffer.isBuffer(value)) return `0x${value.subarray(0, 16).toString('hex')}`;
  return String(value);
}

const CONVERTERS: Record<string, (value: unknown) => unknown> = {
  string: textOf, number: toNumber, bigint: toBigint, boolean: toBoolean, date: toDate, bytes: toBytes, json: toJson,
};

/** The converter of a source's rows, for the declared kinds of its fields (none known: values as the driver gives them). */
export function rowConverter(columnTypes: Readonly<Record<string, string>> | undefined): RowConverter {
  const fields = Object.entries(columnTypes ?? {}).map(([field, type]) => {
    const convert = CONVERTERS[type.replace(/\?$/, '')];
    if (!convert) throw new Error(`internal: unknown column type ${type}`);
    return [field, convert] as const;
  });
  if (fields.length === 0) return (row) => row;
  return (row) => {
    const out: Record<string, unknown> = { ...row };
    for (const [field, convert] of fields) {
      const value = row[field];
      if (value === null || value === undefined) continue;
      try {
        out[field] = convert(value);
      } catch (error) {
        throw new Error(`column '${field}': ${(error as Error).message}`);
      }
    }
    return out;
  };
}

/** A JavaScript value as a SQL literal (see the file header); throws for values MySQL cannot store. */
export function sqlLiteral(value: unknown): string {
  if (value === undefined) return 'DEFAULT';
  if (value === null) return 'NULL';
  switch (typeof value) {
    case 'string': return mysql.escape(value);
    case 'number':
      if (!Number.isFinite(value)) throw new Error(`${value} cannot be stored in a MySQL column`);
      return String(value);
    case 'bigint': return value.toString();
    case 'boolean': return value ? '1' : '0';
    case 'object':
      if (value instanceof Date) {
        if (Number.isNaN(value.getTime())) throw new Error('an invalid Date cannot be stored');
        return `'${value.toISOString().slice(0, 23).replace('T', ' ')}'`;
      }
      if (value instanceof Uint8Array) return `X'${Buffer.from(value.buffer, value.byteOffset, value.byteLength).toString('hex')}'`;
      return mysql.escape(JSON.stringify(value, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v)));
    default:
      throw new Error(`a ${typeof value} cannot be stored in a MySQL column`);
  }
}

/**
 * A primary-key value in a form JavaScript compares as the server orders it
 * (used to tell which snapshot chunk a binlog row belongs to): integers as
 * bigint, binary columns as hex, text as itself (exact for binary
 * collations; a case-insensitive collation may order text differently).
 */
export function comparableKey(value: unknown, dataType: string): bigint | string {
  if (/int$/.test(dataType)) return BigInt(typeof value === 'string' || typeof value === 'number' ? value : String(value));
  if (value instanceof Uint8Array) return Buffer.from(value).toString('hex');
  return textOf(value);
}

/** Orders two keys (arrays of comparableKey values). */
export function compareKeys(a: readonly (bigint | string)[], b: readonly (bigint | string)[]): number {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    if (a[i] < b[i]) return -1;
    if (a[i] > b[i]) return 1;
  }
  return a.length - b.length;
}
