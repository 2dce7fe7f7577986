// Column conversions of the MySQL connectors (runtime/internal/connectors/mysql/columns.ts), table-driven:
// driver values to declared field types without loss (or an error naming the column), JavaScript values
// to SQL literals, and the snapshot hand-over's key order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compareKeys, comparableKey, rowConverter, sqlLiteral } from '../../runtime/internal/connectors/mysql/columns.ts';

const convert = (kind: string, value: unknown) => rowConverter({ v: kind })({ v: value }).v;

test('driver values become the declared types exactly', () => {
  const cases: Array<[string, unknown, unknown]> = [
    ['bigint', '9223372036854775807', 9223372036854775807n],
    ['bigint', 12, 12n],
    ['bigint', '18446744073709551615', 18446744073709551615n],
    ['bigint', '12.000', 12n],
    ['string', '12345678901234567890.0123456789', '12345678901234567890.0123456789'],
    ['string', 42, '42'],
    ['string', Buffer.from('hé'), 'hé'],
    ['number', '9007199254740991', 9007199254740991],
    ['number', '1234.50', 1234.5],
    ['number', '0.10', 0.1],
    ['date', '2024-02-29 23:59:59.999', new Date('2024-02-29T23:59:59.999Z')],
    ['date', '2024-01-02 03:04:05.120000', new Date('2024-01-02T03:04:05.120Z')],
    ['date', '1999-12-31', new Date('1999-12-31T00:00:00.000Z')],
    ['boolean', 1, true],
    ['boolean', '0', false],
    ['boolean', Buffer.from([1]), true],
    ['bytes', Buffer.from([0, 255]), Buffer.from([0, 255])],
    ['json', '{"a":[1,null]}', { a: [1, null] }],
    ['json', { already: true }, { already: true }],
    ['number?', null, null],
  ];
  for (const [kind, value, expected] of cases) assert.deepEqual(convert(kind, value), expected, `${kind} from ${String(value)}`);
});

test('a value the declared type cannot hold exactly is an error naming the column', () => {
  const cases: Array<[string, unknown, RegExp]> = [
    ['number', '9007199254740993', /column 'v': 9007199254740993 is beyond the integers a number holds exactly/],
    ['number', '0.12345678901234567890', /has no exact number: declare the field string/],
    ['date', '2024-01-02 03:04:05.123456', /microseconds, which a Date cannot hold/],
    ['date', '0000-00-00 00:00:00', /zero date/],
    ['bigint', '1.5', /is not an integer/],
    ['json', 'not json', /is not JSON/],
  ];
  for (const [kind, value, message] of cases) assert.throws(() => convert(kind, value), message, `${kind} from ${String(value)}`);
});

test('JavaScript values as SQL literals', () => {
  assert.equal(sqlLiteral(undefined), 'DEFAULT');
  assert.equal(sqlLiteral(null), 'NULL');
  assert.equal(sqlLiteral(9223372036854775807n), '9223372036854775807');
  assert.equal(sqlLiteral(new Date('2024-02-29T23:59:59.999Z')), "'2024-02-29 23:59:59.999'");
  assert.equal(sqlLiteral(Buffer.from([0, 255])), "X'00ff'");
  assert.equal(sqlLiteral(new Uint8Array([1, 2]).subarray(1)), "X'02'");
  assert.equal(sqlLiteral(true), '1');
  assert.equal(sqlLiteral("it's"), "'it\\'s'");
  assert.equal(sqlLiteral({ a: [1, 2n] }), '\'{\\"a\\":[1,\\"2\\"]}\'');
  assert.throws(() => sqlLiteral(Number.NaN), /cannot be stored/);
});

test('keys compare as the server orders integer and binary keys', () => {
  const key = (v: unknown, type: string) => [comparableKey(v, type)];
  assert.ok(compareKeys(key('9', 'bigint'), key(10, 'bigint')) < 0, 'integers numerically, whether text or number');
  assert.ok(compareKeys(key(Buffer.from([0x0a]), 'varbinary'), key(Buffer.from([0x0a, 0]), 'varbinary')) < 0);
  assert.equal(compareKeys([1n, 'b'], [1n, 'b']), 0);
  assert.ok(compareKeys([1n, 'a'], [1n, 'b']) < 0);
});
