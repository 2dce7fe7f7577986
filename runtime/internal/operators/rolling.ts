/**
 * Flink's rolling min/max/minBy/maxBy on a keyed stream, as pure functions of
 * (accumulator, record). sum and reduce are generated inline; these keep
 * Flink's rules on which fields the result carries: min/max change only the
 * field (other fields from the first record), minBy/maxBy keep the whole record
 * that holds the extreme, the first one on ties.
 */

import { withField } from '../records.ts';

type Row = Record<string, any>;

/** min(field): the first record with the field set to the smallest value seen. */
export function rollingMin(acc: Row, value: Row, field: string): Row {
  return value[field] < acc[field] ? withField(acc, field, value[field]) : acc;
}
/** max(field): the first record with the field set to the largest value seen. */
export function rollingMax(acc: Row, value: Row, field: string): Row {
  return value[field] > acc[field] ? withField(acc, field, value[field]) : acc;
}
/** minBy(field): the record with the smallest value (the earliest on ties). */
export function rollingMinBy(acc: Row, value: Row, field: string): Row {
  return value[field] < acc[field] ? value : acc;
}
/** maxBy(field): the record with the largest value (the earliest on ties). */
export function rollingMaxBy(acc: Row, value: Row, field: string): Row {
  return value[field] > acc[field] ? value : acc;
}
