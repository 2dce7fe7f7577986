/**
 * The reference interpreter: evaluates a generated program's source against
 * the reference DSL (reference/dsl.ts, bundled in place of `pipec`) and runs
 * its graph with Flink's semantics without object reuse:
 * - every operator receives its own deep copy of each input record, and a
 *   record is copied when it is emitted (so a generator that yields a record
 *   and then changes it emitted the old value);
 * - a filter passes on the record it was given (including its own changes);
 * - keyed rolling aggregations keep one state value per key: sum/min/max set
 *   the field on the first record of the key (other fields from that record,
 *   arrays stay arrays, a field named `__proto__` is a field), minBy/maxBy keep
 *   the earliest extreme record, reduce replaces the state with fn(state, record);
 *   in batch mode (every source bounded, mode 'auto' or 'batch') each key's
 *   final value is emitted at the end, in streaming mode every update is.
 *
 * In: a program file. Out: the records that reached each sink, in sink creation order.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { copyRecord } from '../values.ts';
import { graphOf, type RefNode, type RefPipeline } from './dsl.ts';

const DSL = path.join(path.dirname(fileURLToPath(import.meta.url)), 'dsl.ts');

/** Bundles the program with `pipec` mapped to the reference DSL and imports it. */
export async function loadReference(file: string, workDir: string): Promise<RefPipeline> {
  const outfile = path.join(fs.mkdtempSync(path.join(workDir || os.tmpdir(), 'ref-')), 'program.mjs');
  await esbuild.build({
    entryPoints: [file], bundle: true, format: 'esm', platform: 'node', target: 'node20', outfile, logLevel: 'silent',
    plugins: [{ name: 'reference-pipec', setup(build) { build.onResolve({ filter: /^pipec$/ }, () => ({ path: DSL })); } }],
  });
  const loaded = await import(pathToFileURL(outfile).href) as { default: RefPipeline };
  if (!loaded.default?.reference) throw new Error('the program does not export a pipeline as default');
  return loaded.default;
}

function setField(record: unknown, field: string, value: unknown): void {
  const target = record as Record<string, unknown>;
  // A plain assignment to '__proto__' would change the prototype; the record's field is what Flink changes.
  if (field === '__proto__' || !Object.prototype.hasOwnProperty.call(target, field)) {
    Object.defineProperty(target, field, { value, writable: true, enumerable: true, configurable: true });
  } else {
    target[field] = value;
  }
}

function getField(record: unknown, field: string): any {
  return Object.prototype.hasOwnProperty.call(record, field) ? (record as Record<string, unknown>)[field] : undefined;
}

/** Runs the graph; `inputs[i]` (optional) replaces the items of the i-th source. Returns each sink's records, in sink order. */
export function runReference(definition: RefPipeline, inputs?: unknown[][]): unknown[][] {
  const nodes = graphOf(definition);
  const batch = definition.options.mode !== 'streaming';
  const outputs = new Map<number, unknown[]>();
  let sourceIndex = 0;
  const sourceOf = new Map<number, number>();
  for (const node of nodes) if (node.kind === 'source') sourceOf.set(node.id, sourceIndex++);

  const output = (id: number): unknown[] => {
    const cached = outputs.get(id);
    if (cached) return cached;
    const node = nodes[id];
    const out: unknown[] = [];
    const emit = (value: unknown) => out.push(copyRecord(value));
    const received = (input: number) => output(input).map((r) => copyRecord(r));
    switch (node.kind) {
      case 'source':
        for (const item of inputs?.[sourceOf.get(id)!] ?? node.items) emit(item);
        break;
      case 'map':
        for (const record of received(node.inputs[0])) emit(node.fn(record));
        break;
      case 'filter':
        for (const record of received(node.inputs[0])) if (node.fn(record)) emit(record);
        break;
      case 'flatMap':
        for (const record of received(node.inputs[0])) for (const item of node.fn(record) as Iterable<unknown>) emit(item);
        break;
      case 'union':
        for (const input of node.inputs) for (const record of received(input)) emit(record);
        break;
      case 'sink':
        for (const record of received(node.inputs[0])) emit(record);
        break;
      case 'rolling':
        rolling(node, received(node.inputs[0]), batch, emit);
        break;
    }
    outputs.set(id, out);
    return out;
  };
  return nodes.filter((n) => n.kind === 'sink').map((n) => output(n.id));
}

function rolling(node: Extract<RefNode, { kind: 'rolling' }>, records: unknown[], batch: boolean, emit: (value: unknown) => void): void {
  const state = new Map<unknown, unknown>();
  const field = node.field!;
  for (const record of records) {
    const key = node.key(copyRecord(record));
    if (!state.has(key)) {
      state.set(key, record);
    } else {
      let acc = state.get(key);
      switch (node.op) {
        case 'sum': setField(acc, field, getField(acc, field) + getField(record, field)); break;
        case 'min': if (getField(record, field) < getField(acc, field)) setField(acc, field, getField(record, field)); break;
        case 'max': if (getField(record, field) > getField(acc, field)) setField(acc, field, getField(record, field)); break;
        case 'minBy': if (getField(record, field) < getField(acc, field)) acc = record; break;
        case 'maxBy': if (getField(record, field) > getField(acc, field)) acc = record; break;
        case 'reduce': acc = node.fn!(acc, record); break;
      }
      state.set(key, acc);
    }
    if (!batch) emit(state.get(key));
  }
  if (batch) for (const value of state.values()) emit(value);
}
