/**
 * KeyedStateBackend: the keyed state of one operator instance, held in plain
 * Maps (one table per state name, key → value) and scoped to the current key.
 * Snapshots and restores go by key group (Flink's unit of state
 * redistribution: keyGroup = murmur2(key) mod maxParallelism), so a checkpoint
 * store can hand a subset of groups to another worker after a rebalance.
 *
 * A backend created with `tracked` records which keys of which tables were
 * touched since the last `takeChanges()`: an incremental checkpoint writes
 * only those. Operators change values in place after `get` (window panes, list
 * state), so a `get` counts as a touch, as a `set` or `delete` does.
 */
import { keyText, murmur2 } from '../partitioning.ts';

/** Flink's default number of key groups. */
export const MAX_PARALLELISM = 128;

const encoder = new TextEncoder();

/** The key group a key belongs to. */
export function keyGroupOf(key: unknown, maxParallelism = MAX_PARALLELISM): number {
  return (murmur2(encoder.encode(keyText(key))) & 0x7fffffff) % maxParallelism;
}

/** One state entry in a snapshot. */
export interface StateEntry { table: string; keyGroup: number; key: unknown; value: unknown }

/** A snapshot of a backend (or of some of its key groups). */
export interface KeyedStateSnapshot { maxParallelism: number; entries: StateEntry[] }

/** A table that remembers the keys touched since its changes were last taken. */
class TrackedTable<V> extends Map<unknown, V> {
  readonly touched = new Set<unknown>();
  override get(key: unknown): V | undefined { this.touched.add(key); return super.get(key); }
  override set(key: unknown, value: V): this { this.touched.add(key); return super.set(key, value); }
  override delete(key: unknown): boolean { this.touched.add(key); return super.delete(key); }
  override clear(): void { for (const key of this.keys()) this.touched.add(key); super.clear(); }
}

/** Entries of one state table in columns: its name, keys, and values (undefined: the entry was deleted). */
export type TableColumns = [name: string, keys: unknown[], values: unknown[]];

/** One changed entry: its current value, or undefined when it was deleted. */
export interface StateChange { table: string; key: unknown; value: unknown }

/** The state tables of one keyed operator instance. */
export class KeyedStateBackend {
  private readonly tables = new Map<string, Map<unknown, unknown>>();
  /** The key of the record or timer being processed; state handles read and write under it. */
  currentKey: unknown = undefined;

  /** With `tracked`, the backend records touched keys for incremental checkpoints. */
  constructor(private readonly tracked = false) {}

  /** The table of one named state (created on first use). */
  table<S>(name: string): Map<unknown, S> {
    let table = this.tables.get(name);
    if (!table) { table = this.tracked ? new TrackedTable() : new Map(); this.tables.set(name, table); }
    return table as Map<unknown, S>;
  }

  /** The entries touched since the last call (tracked backends), with their values now. */
  takeChanges(): StateChange[] {
    const changes: StateChange[] = [];
    for (const [name, table] of this.tables) {
      if (!(table instanceof TrackedTable)) continue;
      for (const key of table.touched) changes.push({ table: name, key, value: Map.prototype.get.call(table, key) });
      table.touched.clear();
    }
    return changes;
  }

  /**
   * The entries touched since the last call (tracked backends), one column
   * list per table: keys, and their values now (undefined: deleted).
   */
  takeChangedTables(): TableColumns[] {
    const changed: TableColumns[] = [];
    for (const [name, table] of this.tables) {
      if (!(table instanceof TrackedTable) || table.touched.size === 0) continue;
      const keys = [...table.touched];
      const values = new Array<unknown>(keys.length);
      for (let i = 0; i < keys.length; i++) values[i] = Map.prototype.get.call(table, keys[i]);
      changed.push([name, keys, values]);
      table.touched.clear();
    }
    return changed;
  }

  /** Every entry, one column list per table (a full checkpoint); what was touched is forgotten, since all of it is written. */
  allTables(): TableColumns[] {
    const all: TableColumns[] = [];
    for (const [name, table] of this.tables) {
      if (table instanceof TrackedTable) table.touched.clear();
      if (table.size === 0) continue;
      const keys: unknown[] = [];
      const values: unknown[] = [];
      for (const [key, value] of Map.prototype.entries.call(table) as IterableIterator<[unknown, unknown]>) { keys.push(key); values.push(value); }
      all.push([name, keys, values]);
    }
    return all;
  }

  /** Puts one entry back from a checkpoint (not counted as a change). */
  restoreEntry(table: string, key: unknown, value: unknown): void {
    const t = this.table(table);
    if (value === undefined) Map.prototype.delete.call(t, key);
    else Map.prototype.set.call(t, key, value);
  }

  /** Whether changed columns (from takeChangedTables) hold every entry this backend has: then they are its whole state. */
  coveredBy(changed: readonly TableColumns[]): boolean {
    const present = new Map<string, number>();
    for (const [name, , values] of changed) {
      let n = 0;
      for (const v of values) if (v !== undefined) n++;
      present.set(name, n);
    }
    for (const [name, table] of this.tables) if (table.size !== (present.get(name) ?? 0)) return false;
    return true;
  }

  /** Number of entries over all tables. */
  get size(): number {
    let size = 0;
    for (const table of this.tables.values()) size += table.size;
    return size;
  }

  /** Every entry, or those of the given key groups. */
  snapshot(keyGroups?: ReadonlySet<number>): KeyedStateSnapshot {
    const entries: StateEntry[] = [];
    for (const [table, values] of this.tables) {
      for (const [key, value] of values) {
        const keyGroup = keyGroupOf(key);
        if (!keyGroups || keyGroups.has(keyGroup)) entries.push({ table, keyGroup, key, value });
      }
    }
    return { maxParallelism: MAX_PARALLELISM, entries };
  }

  /** Loads entries (of the given key groups only, when given). */
  restore(snapshot: KeyedStateSnapshot, keyGroups?: ReadonlySet<number>): void {
    for (const entry of snapshot.entries) {
      if (!keyGroups || keyGroups.has(entry.keyGroup)) this.table(entry.table).set(entry.key, entry.value);
    }
  }
}
