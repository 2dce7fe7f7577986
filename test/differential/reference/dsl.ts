/**
 * The reference interpreter's stand-in for the `pipec` package: a generated
 * program is bundled with its `pipec` import pointing here, so evaluating it
 * records the operator graph (and keeps the user's functions as they are,
 * never rewritten). It knows only the DSL subset the differential generator
 * writes; anything else throws, which the runner reports as a generator bug.
 * Written independently of runtime/api so a bug there cannot hide here.
 */

/** One operator as the reference sees it. */
export type RefNode =
  | { id: number; kind: 'source'; inputs: []; items: unknown[] }
  | { id: number; kind: 'map' | 'filter' | 'flatMap'; inputs: [number]; fn: (value: unknown) => unknown }
  | { id: number; kind: 'rolling'; inputs: [number]; key: (value: unknown) => unknown; op: 'sum' | 'min' | 'max' | 'minBy' | 'maxBy' | 'reduce'; field?: string; fn?: (a: unknown, b: unknown) => unknown }
  | { id: number; kind: 'union'; inputs: number[] }
  | { id: number; kind: 'sink'; inputs: [number] };

/** Options a program may pass to pipeline(). */
export interface RefOptions { mode?: 'auto' | 'streaming' | 'batch'; parallelism?: number }

/** What a program's default export is under the reference. */
export interface RefPipeline { readonly reference: true; name: string; options: RefOptions; build: (env: { source(s: unknown): DataStream }) => void }

type NewNode = RefNode extends infer N ? (N extends RefNode ? Omit<N, 'id'> : never) : never;

type Descriptor = { connector: string; items?: unknown[] };

class Builder {
  readonly nodes: RefNode[] = [];
  add(node: NewNode): number {
    const id = this.nodes.length;
    this.nodes.push({ ...node, id } as RefNode);
    return id;
  }
}

/** A stream of the reference graph. */
export class DataStream {
  constructor(private readonly builder: Builder, readonly id: number) {}
  map(fn: (value: unknown) => unknown): DataStream { return this.next({ kind: 'map', inputs: [this.id], fn }); }
  filter(fn: (value: unknown) => unknown): DataStream { return this.next({ kind: 'filter', inputs: [this.id], fn }); }
  flatMap(fn: (value: unknown) => unknown): DataStream { return this.next({ kind: 'flatMap', inputs: [this.id], fn }); }
  keyBy(key: (value: unknown) => unknown): KeyedStream { return new KeyedStream(this.builder, this.id, key); }
  union(...others: DataStream[]): DataStream { return this.next({ kind: 'union', inputs: [this.id, ...others.map((o) => o.id)] }); }
  sink(descriptor: Descriptor): { name(): unknown; setParallelism(): unknown } {
    if (!descriptor || typeof descriptor.connector !== 'string') throw new TypeError('sink(...) needs a sink descriptor');
    this.builder.add({ kind: 'sink', inputs: [this.id] });
    const handle = { name: () => handle, setParallelism: () => handle };
    return handle;
  }
  name(): this { return this; }
  setParallelism(): this { return this; }
  private next(node: NewNode): DataStream { return new DataStream(this.builder, this.builder.add(node)); }
}

/** A keyed stream of the reference graph: rolling aggregations only. */
export class KeyedStream {
  constructor(private readonly builder: Builder, private readonly input: number, private readonly key: (value: unknown) => unknown) {}
  sum(field: string): DataStream { return this.rolling('sum', field); }
  min(field: string): DataStream { return this.rolling('min', field); }
  max(field: string): DataStream { return this.rolling('max', field); }
  minBy(field: string): DataStream { return this.rolling('minBy', field); }
  maxBy(field: string): DataStream { return this.rolling('maxBy', field); }
  reduce(fn: (a: unknown, b: unknown) => unknown): DataStream { return this.rolling('reduce', undefined, fn); }
  private rolling(op: 'sum' | 'min' | 'max' | 'minBy' | 'maxBy' | 'reduce', field?: string, fn?: (a: unknown, b: unknown) => unknown): DataStream {
    return new DataStream(this.builder, this.builder.add({ kind: 'rolling', inputs: [this.input], key: this.key, op, field, fn }));
  }
}

/** `pipeline(name, build, options)` as the reference records it. */
export function pipeline(name: string, build: RefPipeline['build'], options: RefOptions = {}): RefPipeline {
  return { reference: true, name, build, options };
}

/** A bounded source over an array. */
export function collection(items: unknown[]): Descriptor { return { connector: 'collection', items }; }
/** A sink (the reference keeps what reaches it; where it would print does not matter). */
export function print(_prefix?: string): Descriptor { return { connector: 'print' }; }
/** Kafka sinks (stage-worker runs of the same program). */
export const kafka = { sink: (_options: unknown): Descriptor => ({ connector: 'kafka' }) };

/** Runs a program's build function and returns its graph. */
export function graphOf(definition: RefPipeline): RefNode[] {
  const builder = new Builder();
  definition.build({
    source(descriptor: unknown) {
      const d = descriptor as Descriptor;
      if (d?.connector !== 'collection' || !Array.isArray(d.items)) throw new TypeError('the reference knows only collection sources');
      return new DataStream(builder, builder.add({ kind: 'source', inputs: [], items: d.items }));
    },
  });
  return builder.nodes;
}
