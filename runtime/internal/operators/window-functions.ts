/**
 * Turns a window node's user function — an AggregateFunction, a reduce
 * function or a process function over all elements — into one accumulator
 * interface, plus how a fired window becomes output records (with the optional
 * `project(result, { key, window })`).
 */
import type { AggregateFunction } from '../../api/functions.ts';

/** The accumulator operations every window kind uses. */
export interface WindowAccumulator {
  create(): unknown;
  add(value: unknown, acc: unknown): unknown;
  /** Null when the user's AggregateFunction has no merge: panes then keep elements. */
  merge: ((a: unknown, b: unknown) => unknown) | null;
  /** Writes the output of a fired window. */
  emit(acc: unknown, key: unknown, window: object, ts: number | undefined, watermark: number, out: (value: unknown, ts: number | undefined) => void): void;
}

const EMPTY = Symbol('empty');

/** Builds the accumulator for a window node from its window function kind, the user function and its projection. */
export function windowAccumulator(kind: string, fn: unknown, project: ((result: unknown, meta: { key: unknown; window: object }) => unknown) | undefined): WindowAccumulator {
  const finish = (result: unknown, key: unknown, window: object) => (project ? project(result, { key, window }) : result);
  if (kind === 'reduce') {
    const reduce = fn as (a: unknown, b: unknown) => unknown;
    return {
      create: () => EMPTY,
      add: (v, acc) => (acc === EMPTY ? v : reduce(acc, v)),
      merge: (a, b) => (a === EMPTY ? b : b === EMPTY ? a : reduce(a, b)),
      emit: (acc, key, window, ts, _wm, out) => { if (acc !== EMPTY) out(finish(acc, key, window), ts); },
    };
  }
  if (kind === 'process') {
    const process = fn as (key: unknown, window: object, elements: readonly unknown[], ctx: { currentWatermark: number }) => Iterable<unknown>;
    return {
      create: () => [],
      add: (v, acc) => { (acc as unknown[]).push(v); return acc; },
      merge: (a, b) => (a as unknown[]).concat(b as unknown[]),
      emit: (acc, key, window, ts, wm, out) => { for (const r of process(key, window, acc as unknown[], { currentWatermark: wm })) out(r, ts); },
    };
  }
  const aggregate = fn as AggregateFunction<unknown, unknown, unknown>;
  return {
    create: () => aggregate.createAccumulator(),
    add: (v, acc) => aggregate.add(v, acc),
    merge: aggregate.merge ? (a, b) => aggregate.merge!(a, b) : null,
    emit: (acc, key, window, ts, _wm, out) => out(finish(aggregate.getResult(acc), key, window), ts),
  };
}
