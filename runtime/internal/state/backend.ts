/**
 * KeyedStateBackend: the keyed state of one operator instance, held in plain
 * Maps (one table per state name, key → value) and scoped to the current key.
 * Snapshots and restores go by key group (Flink's unit of state
 * redistribution: keyGroup = murmur2(key) mod maxParallelism), so a checkpoint
 * store can hand a subset of groups to another worker after a rebalance.
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

/** The state tables of one keyed operator instance. */
export class KeyedStateBackend {
  private readonly tables = new Map<string, Map<unknown, unknown>>();
  /** The key of the record or timer being processed; state handles read and write under it. */
  currentKey: unknown = undefined;

  /** The table of one named state (created on first use). */
  table<S>(name: string): Map<unknown, S> {
    let table = this.tables.get(name);
    if (!table) { table = new Map(); this.tables.set(name, table); }
    return table as Map<unknown, S>;
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
