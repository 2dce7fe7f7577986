/**
 * The three baselines of the fusion benchmark, each timed in its own process
 * (`node variants.mjs <hand|operators|streams> <records>`), printing
 * `{"ms": <processing time>, "keys": <distinct keys>}`.
 */
import { Readable, Transform, Writable } from 'node:stream';
import { pipeline as streamPipeline } from 'node:stream/promises';
import { makeRecords, type UserAction } from './records.ts';

type Out = { name: string; sex: string; one: number };

/** The limit: one hand-written loop. */
function hand(records: UserAction[]): Map<string, number> {
  const counts = new Map<string, number>();
  for (let i = 0; i < records.length; i++) {
    const a = records[i];
    if (!(a.action === 'click' && a.is_delete === 0)) continue;
    const r = { name: a.name, sex: a.sex, one: 1 };
    const key = r.sex + ':' + r.name;
    counts.set(key, (counts.get(key) ?? 0) + r.one);
  }
  return counts;
}

/** Flink's runtime shape: operator objects pushing through Output.collect (virtual calls per record and operator). */
interface Output<T> { collect(record: T): void }
abstract class Operator<I, O> implements Output<I> {
  constructor(protected readonly output: Output<O>) {}
  abstract collect(record: I): void;
}
class FilterOperator<T> extends Operator<T, T> {
  constructor(output: Output<T>, private readonly fn: (v: T) => boolean) { super(output); }
  collect(record: T): void { if (this.fn(record)) this.output.collect(record); }
}
class MapOperator<I, O> extends Operator<I, O> {
  constructor(output: Output<O>, private readonly fn: (v: I) => O) { super(output); }
  collect(record: I): void { this.output.collect(this.fn(record)); }
}
class FlatMapOperator<I, O> extends Operator<I, O> {
  constructor(output: Output<O>, private readonly fn: (v: I) => Iterable<O>) { super(output); }
  collect(record: I): void { for (const r of this.fn(record)) this.output.collect(r); }
}
class KeyedCountOperator<T> implements Output<T> {
  readonly counts = new Map<string, number>();
  constructor(private readonly key: (v: T) => string) {}
  collect(record: T): void { const k = this.key(record); this.counts.set(k, (this.counts.get(k) ?? 0) + 1); }
}
function operators(records: UserAction[]): Map<string, number> {
  const sink = new KeyedCountOperator<Out>((r) => r.sex + ':' + r.name);
  const chain = new FilterOperator<UserAction>(
    new MapOperator<UserAction, Out>(new FlatMapOperator<Out, Out>(sink, (r) => [r]), (a) => ({ name: a.name, sex: a.sex, one: 1 })),
    (a) => a.action === 'click' && a.is_delete === 0);
  for (let i = 0; i < records.length; i++) chain.collect(records[i]);
  return sink.counts;
}

/** Node object-mode streams, one Transform per operator. */
async function streams(records: UserAction[]): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  const transform = <I, O>(fn: (v: I, push: (o: O) => void) => void) => new Transform({ objectMode: true, transform(chunk: I, _e, done) { fn(chunk, (o) => this.push(o)); done(); } });
  await streamPipeline(
    Readable.from(records),
    transform<UserAction, UserAction>((a, push) => { if (a.action === 'click' && a.is_delete === 0) push(a); }),
    transform<UserAction, Out>((a, push) => push({ name: a.name, sex: a.sex, one: 1 })),
    transform<Out, Out>((r, push) => { for (const x of [r]) push(x); }),
    new Writable({ objectMode: true, write(r: Out, _e, done) { const k = r.sex + ':' + r.name; counts.set(k, (counts.get(k) ?? 0) + 1); done(); } }),
  );
  return counts;
}

const [variant, count] = [process.argv[2], Number(process.argv[3])];
const records = makeRecords(count);
const run = { hand, operators, streams }[variant as 'hand'];
if (!run) throw new Error(`unknown variant ${variant}`);
const started = performance.now();
const result = await run(records);
const ms = performance.now() - started;
process.stdout.write(JSON.stringify({ ms, keys: result.size }) + '\n');
