/**
 * The user-facing keyed state objects (Flink's ValueState, ListState,
 * MapState, ReducingState, AggregatingState) over a KeyedStateBackend: each
 * reads and writes the entry of the backend's current key.
 */
import type {
  AggregateFunction, AggregatingState, KeyedStateStore, ListState, MapState, ReducingState, ValueState,
} from '../../api/functions.ts';
import type { KeyedStateBackend } from './backend.ts';

/** `ctx.state` for one operator: handles are created once per name and reused. */
export function keyedStateStore(backend: KeyedStateBackend): KeyedStateStore {
  const handles = new Map<string, unknown>();
  const once = <H>(kind: string, name: string, create: () => H): H => {
    const id = `${kind}:${name}`;
    let handle = handles.get(id) as H | undefined;
    if (!handle) { handle = create(); handles.set(id, handle); }
    return handle;
  };
  return {
    value<S>(name: string): ValueState<S> {
      return once('value', name, () => {
        const table = backend.table<S>(`value:${name}`);
        return {
          value: () => table.get(backend.currentKey),
          update: (v: S) => { if (v === undefined) table.delete(backend.currentKey); else table.set(backend.currentKey, v); },
          clear: () => { table.delete(backend.currentKey); },
        };
      });
    },
    list<S>(name: string): ListState<S> {
      return once('list', name, () => {
        const table = backend.table<S[]>(`list:${name}`);
        const list = () => { let l = table.get(backend.currentKey); if (!l) { l = []; table.set(backend.currentKey, l); } return l; };
        return {
          get: () => (table.get(backend.currentKey) ?? []).slice(),
          add: (v: S) => { list().push(v); },
          addAll: (vs: Iterable<S>) => { list().push(...vs); },
          update: (vs: Iterable<S>) => { const l = [...vs]; if (l.length) table.set(backend.currentKey, l); else table.delete(backend.currentKey); },
          clear: () => { table.delete(backend.currentKey); },
        };
      });
    },
    map<MK, MV>(name: string): MapState<MK, MV> {
      return once('map', name, () => {
        const table = backend.table<Map<MK, MV>>(`map:${name}`);
        const map = () => { let m = table.get(backend.currentKey); if (!m) { m = new Map(); table.set(backend.currentKey, m); } return m; };
        const current = () => table.get(backend.currentKey) ?? new Map<MK, MV>();
        return {
          get: (k: MK) => current().get(k),
          put: (k: MK, v: MV) => { map().set(k, v); },
          contains: (k: MK) => current().has(k),
          remove: (k: MK) => { const m = table.get(backend.currentKey); if (m) { m.delete(k); if (m.size === 0) table.delete(backend.currentKey); } },
          entries: () => [...current().entries()],
          keys: () => [...current().keys()],
          values: () => [...current().values()],
          clear: () => { table.delete(backend.currentKey); },
        };
      });
    },
    reducing<S>(name: string, reduce: (a: S, b: S) => S): ReducingState<S> {
      return once('reducing', name, () => {
        const table = backend.table<S>(`reducing:${name}`);
        return {
          get: () => table.get(backend.currentKey),
          add: (v: S) => { const prev = table.get(backend.currentKey); table.set(backend.currentKey, prev === undefined ? v : reduce(prev, v)); },
          clear: () => { table.delete(backend.currentKey); },
        };
      });
    },
    aggregating<I, A, O>(name: string, aggregate: AggregateFunction<I, A, O>): AggregatingState<I, O> {
      return once('aggregating', name, () => {
        const table = backend.table<A>(`aggregating:${name}`);
        return {
          get: () => { const acc = table.get(backend.currentKey); return acc === undefined ? undefined : aggregate.getResult(acc); },
          add: (v: I) => { const acc = table.get(backend.currentKey) ?? aggregate.createAccumulator(); table.set(backend.currentKey, aggregate.add(v, acc)); },
          clear: () => { table.delete(backend.currentKey); },
        };
      });
    },
  };
}
