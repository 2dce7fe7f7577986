/**
 * A task's state as records of its changelog partition: Flink's log-based
 * incremental checkpoints (FLIP-158's state changelog with periodic
 * materialization), on a compacted Kafka topic.
 *
 * - A checkpoint writes what changed since the previous one as one **delta**:
 *   the touched keyed-state entries (deleted ones as undefined) and the added
 *   or removed timers of every operator, in columns, in parts of at most about
 *   FRAGMENT_BYTES, each serialized on its own (a few Kafka records however
 *   many keys changed, so the cost of a checkpoint is the bytes of what
 *   changed, not a record per key, and no state is serialized in one piece).
 * - When the deltas written since the last full state outgrow the state
 *   itself (MATERIALIZE_RATIO), a checkpoint writes a **full** state instead,
 *   and tombstones for every earlier delta and full, so compaction drops them
 *   and a restore reads at most about (1 + MATERIALIZE_RATIO) times the state.
 * - One **meta** record (key `meta`) holds everything else the task's
 *   results depend on: input positions, per-partition and per-origin
 *   watermarks and idleness, watermark generators, sink states, whether the
 *   input ended.
 *
 * Fragment keys are `d|f ␀ epoch ␀ checkpoint ␀ writer ␀ i ␀ n`: the epoch
 * counts full states, the writer is a random id per task incarnation (so two
 * writers of one partition under at-least-once never mix fragments), i of n
 * parts. A restore reads the partition in offset order: a complete full
 * state replaces what came before, a complete delta is applied on top, a
 * torn blob is ignored. Records of the earlier format (one record per entry, `s ␀ uid ␀
 * table ␀ key` and `t ␀ uid ␀ domain ␀ id`) are read too.
 *
 * Values are written with V8's structured serialization (node:v8), which
 * keeps Map, Set, Date, bigint, typed arrays, undefined, NaN and ±∞; class
 * instances come back as plain objects. A delta is serialized at the cut, so
 * later changes of a value in place never leak into a checkpoint taken
 * before them.
 */
import crypto from 'node:crypto';
import v8 from 'node:v8';
import type { InstanceRuntime } from '../local/job.ts';
import type { CoordinatorSnapshot } from '../watermarks.ts';
import type { Manifest } from '../manifest.ts';
import type { TableColumns } from '../state/backend.ts';
import type { TimeDomain, TimerColumns } from '../state/timers.ts';

/** One changelog record: a key and its serialized value, or null (a tombstone). */
export interface ChangelogRecord { key: string; value: Buffer | null }

/** The meta record of a task. */
export interface TaskMeta {
  version: 1;
  /** Checkpoints this task has taken (1 for the first). */
  checkpoint: number;
  /** Per input topic: the next offset to read (everything before it is in the state). */
  positions: Record<string, string>;
  /** Per input edge: the watermark of each upstream producer of the task's partition. */
  partitionWatermarks: Record<string, Array<[string, number, boolean]>>;
  coordinator: CoordinatorSnapshot;
  /** Per assignTimestamps node uid: the largest timestamp seen. */
  generators: Array<[string, number]>;
  /** Every input of the task has ended (a bounded job): a task restored from it ends at once. */
  ended: boolean;
  /** Per sink uid that takes part in checkpoints (a file sink): what this checkpoint publishes once committed. */
  sinks?: Record<string, unknown>;
  /** A source stage's task, in subtask 0's meta record: the positions of its sources (`<node>/<subtask>`: a generator's next index, a file's line). */
  sources?: Record<string, unknown>;
}

export const META_KEY = 'meta';

/** The largest part of a delta or full state (the broker's default record limit is 1 MB). */
export const FRAGMENT_BYTES = 512 * 1024;
/** Entries of one table (or timer domain) that go into a part together at most. */
const SLICE_ENTRIES = 4096;

/** A full state is written once the deltas since the last one hold this many times the entries the state has ... */
export const MATERIALIZE_RATIO = 2;
/** ... and at least this many (a small state is not rewritten every few checkpoints; PIPEC_MATERIALIZE_MIN_ENTRIES to tune). */
const MATERIALIZE_MIN_ENTRIES = Number(process.env.PIPEC_MATERIALIZE_MIN_ENTRIES ?? 10_000);

/** The stable id of a node's state: its uid from the manifest (the node id for manifests without uids). */
export function uidOf(manifest: Manifest, nodeId: number): string {
  return (manifest.nodes[nodeId] as { uid?: string }).uid ?? `node-${nodeId}`;
}

const SEP = '\u0000';

/** The state of one operator in a delta or full state: its tables' entries and its timers, in columns. */
interface OperatorColumns { uid: string; tables: TableColumns[]; timers: TimerColumns[] }

/** What a delta or full state record holds (V8-serialized, then cut into fragments). */
interface StateBlob {
  v: 2;
  operators: OperatorColumns[];
  /**
   * A full state written by a local cache's compaction (not by a task into
   * Kafka): the keys of the blobs it replaces that are still live in the
   * changelog, and the delta entries they hold, for the next materialization.
   */
  live?: string[];
  deltaEntries?: number;
}

/** The state of one operator as read back: tables (key → value) and live timers per domain (key → timestamps). */
interface RestoredOperator { tables: Map<string, Map<unknown, unknown>>; timers: Record<TimeDomain, Map<unknown, Set<number>>> }

function entryCount(operators: OperatorColumns[]): number {
  let n = 0;
  for (const op of operators) {
    for (const [, keys] of op.tables) n += keys.length;
    for (const [, keys] of op.timers) n += keys.length;
  }
  return n;
}

/**
 * The writer of one task's changelog: what each checkpoint writes of its
 * state (a delta, or now and then a full state), and the bookkeeping that
 * decides when (continued from the changelog it restored).
 */
export class ChangelogWriter {
  /** Full states written so far (the epoch of the current deltas). */
  private epoch: number;
  /** Entries in the deltas since the last full state. */
  private deltaEntries: number;
  /** Keys of the changelog's records that the next full state supersedes (its tombstones). */
  private readonly live: Set<string>;
  private readonly writer = crypto.randomBytes(4).toString('hex');

  /** `materialize: false` for a store that compacts itself (the local checkpoint log): deltas only. */
  constructor(restored: RestoredState | null, private readonly options: { materialize: boolean } = { materialize: true }) {
    this.epoch = restored?.epoch ?? 0;
    this.deltaEntries = restored?.deltaEntries ?? 0;
    this.live = new Set(restored?.liveKeys ?? []);
  }

  /** The state records of a checkpoint (taken synchronously: the cut), to be written before its meta record. */
  cut(runtime: InstanceRuntime | undefined, manifest: Manifest, checkpoint: number): ChangelogRecord[] {
    if (!runtime) return [];
    const changes: OperatorColumns[] = [];
    let size = 0;
    // Whether the changes touch every entry of every backend (a busy task: every key changed since the last checkpoint).
    let covered = true;
    for (const [nodeId, backend] of runtime.backends) {
      size += backend.size;
      const tables = backend.takeChangedTables();
      covered &&= backend.coveredBy(tables);
      const timers = runtime.timers.get(nodeId)?.takeChangedColumns() ?? [];
      if (tables.length || timers.length) changes.push({ uid: uidOf(manifest, nodeId), tables, timers });
    }
    for (const [nodeId, timers] of runtime.timers) {
      size += timers.size;
      if (runtime.backends.has(nodeId)) continue;
      const columns = timers.takeChangedColumns();
      if (columns.length) changes.push({ uid: uidOf(manifest, nodeId), tables: [], timers: columns });
    }
    const changed = entryCount(changes);
    if (this.options.materialize) {
      // A delta that holds every entry is the whole state already: written as a full state (with the live timers), it costs about what the delta would, and drops the deltas before it.
      if (covered && changed > 0) return this.full(runtime, manifest, checkpoint, changes);
      if (this.deltaEntries + changed > Math.max(MATERIALIZE_MIN_ENTRIES, MATERIALIZE_RATIO * size)) return this.full(runtime, manifest, checkpoint);
    }
    if (changed === 0) return [];
    this.deltaEntries += changed;
    const records = fragments(`d${SEP}${this.epoch}${SEP}${checkpoint}${SEP}${this.writer}`, { v: 2, operators: changes });
    for (const r of records) this.live.add(r.key);
    return records;
  }

  /**
   * A full state, and tombstones for every record it supersedes. `covering`:
   * changes that hold every entry (their deleted entries are left out), so
   * the tables need not be read again.
   */
  private full(runtime: InstanceRuntime, manifest: Manifest, checkpoint: number, covering?: OperatorColumns[]): ChangelogRecord[] {
    const operators: OperatorColumns[] = [];
    const changedTables = new Map((covering ?? []).map((op) => [op.uid, op.tables]));
    const nodes = new Set([...runtime.backends.keys(), ...runtime.timers.keys()]);
    for (const nodeId of nodes) {
      const uid = uidOf(manifest, nodeId);
      const tables = covering ? (changedTables.get(uid) ?? []).map(presentOnly).filter(([, keys]) => keys.length) : runtime.backends.get(nodeId)?.allTables() ?? [];
      const timers = runtime.timers.get(nodeId)?.liveColumns() ?? [];
      if (tables.length || timers.length) operators.push({ uid, tables, timers });
    }
    this.epoch++;
    const records = fragments(`f${SEP}${this.epoch}${SEP}${checkpoint}${SEP}${this.writer}`, { v: 2, operators });
    for (const key of this.live) records.push({ key, value: null });
    this.live.clear();
    for (const r of records) if (r.value !== null) this.live.add(r.key);
    this.deltaEntries = 0;
    return records;
  }
}

/** A table's changed columns without its deleted entries. */
function presentOnly([name, keys, values]: TableColumns): TableColumns {
  if (!values.includes(undefined)) return [name, keys, values];
  const k: unknown[] = [], v: unknown[] = [];
  for (let i = 0; i < keys.length; i++) if (values[i] !== undefined) { k.push(keys[i]); v.push(values[i]); }
  return [name, k, v];
}

/** Whether a changelog key is a fragment of a full state (a checkpoint whose records start with one holds the whole state). */
export function isFullState(key: string): boolean {
  return key[0] === 'f' && key[1] === SEP;
}

/**
 * A blob as changelog records: parts of at most about FRAGMENT_BYTES under
 * `<id> ␀ i ␀ n`, each one a StateBlob of its own (a slice of the entries),
 * serialized apart, so no state is ever serialized in one piece and a reader
 * decodes one part at a time. The first part carries `live` and
 * `deltaEntries`.
 */
function fragments(id: string, blob: StateBlob): ChangelogRecord[] {
  // The entries as slices of at most SLICE_ENTRIES (one operator's table or timer domain each), packed into parts in order.
  const slices: Array<{ columns: OperatorColumns; entries: number }> = [];
  for (const op of blob.operators) {
    for (const [name, keys, values] of op.tables) {
      for (let from = 0; from < keys.length; from += SLICE_ENTRIES) {
        const to = Math.min(keys.length, from + SLICE_ENTRIES);
        slices.push({ columns: { uid: op.uid, tables: [[name, keys.slice(from, to), values.slice(from, to)]], timers: [] }, entries: to - from });
      }
    }
    for (const [domain, keys, timestamps, live] of op.timers) {
      for (let from = 0; from < keys.length; from += SLICE_ENTRIES) {
        const to = Math.min(keys.length, from + SLICE_ENTRIES);
        slices.push({ columns: { uid: op.uid, tables: [], timers: [[domain, keys.slice(from, to), timestamps.slice(from, to), live.slice(from, to)]] }, entries: to - from });
      }
    }
  }
  const parts: Buffer[] = [];
  const head = { live: blob.live, deltaEntries: blob.deltaEntries };
  // Entries per part, learnt from the parts written so far (bytes per entry).
  let budget = SLICE_ENTRIES;
  const write = (group: Array<{ columns: OperatorColumns; entries: number }>): void => {
    const bytes = v8.serialize({ v: 2, operators: group.map((g) => g.columns), ...(parts.length === 0 ? head : {}) } satisfies StateBlob);
    const entries = group.reduce((n, g) => n + g.entries, 0);
    if (bytes.length > FRAGMENT_BYTES && group.length > 1) {
      const mid = group.length >> 1;
      write(group.slice(0, mid));
      write(group.slice(mid));
      return;
    }
    // One slice over the limit (large values) goes as it is: the producer sends a record up to the broker's limit alone.
    parts.push(bytes);
    budget = Math.max(1, Math.floor(entries * (FRAGMENT_BYTES * 0.8) / Math.max(1, bytes.length)));
  };
  let group: typeof slices = [];
  let entries = 0;
  for (const slice of slices) {
    if (group.length && entries + slice.entries > budget) { write(group); group = []; entries = 0; }
    group.push(slice);
    entries += slice.entries;
  }
  if (group.length || parts.length === 0) write(group);
  return parts.map((value, i) => ({ key: `${id}${SEP}${i}${SEP}${parts.length}`, value }));
}

/** What a meta record holds of an instance's runtime at a cut: its watermarks and idleness, and its watermark generators (none for a task without a job). */
export function runtimeSnapshot(runtime: InstanceRuntime | undefined, manifest: Manifest): Pick<TaskMeta, 'coordinator' | 'generators'> {
  if (!runtime) return { coordinator: { origins: [], inputs: [], consumers: [], outputs: [] }, generators: [] };
  return { coordinator: runtime.coordinator.snapshot(), generators: [...runtime.generators].map(([nodeId, g]) => [uidOf(manifest, nodeId), g.maxSeen]) };
}

/** The meta record. */
export function metaRecord(meta: TaskMeta): ChangelogRecord {
  return { key: META_KEY, value: v8.serialize(meta) };
}

/** A key of the earlier one-record-per-entry format (`n1`, `sa`, `b7`, `u`, `o<base64 of V8>`) back as the key. */
function legacyKey(id: string): unknown {
  switch (id[0]) {
    case 's': return id.slice(1);
    case 'n': return Number(id.slice(1));
    case 'b': return BigInt(id.slice(1));
    case 'u': return undefined;
    default: return v8.deserialize(Buffer.from(id.slice(1), 'base64'));
  }
}

/** A task's changelog read in offset order: the state, timers and meta record it holds at its end. */
export class RestoredState {
  private readonly operators = new Map<string, RestoredOperator>();
  private metaBytes: Buffer | null = null;
  /** Parts of blobs not yet complete, by blob id. */
  private readonly pending = new Map<string, Buffer[]>();
  /** Changelog records read (for logs). */
  records = 0;
  /** The epoch of the last full state (0: none yet). */
  epoch = 0;
  /** Entries in the deltas after the last full state. */
  deltaEntries = 0;
  /** Keys of the records a new full state would supersede. */
  readonly liveKeys = new Set<string>();

  add(key: string, value: Buffer | null): void {
    this.records++;
    if (key === META_KEY) { this.metaBytes = value && value.length ? value : null; return; }
    const kind = key[0];
    if ((kind === 'd' || kind === 'f') && key[1] === SEP) { this.fragment(key, value); return; }
    if ((kind === 's' || kind === 't') && key[1] === SEP) { this.legacy(key, value); return; }
  }

  /**
   * One part of a delta or full state. The parts of a blob are kept (as
   * bytes) until its last one, then decoded and applied one at a time: a full
   * state replaces the state, a delta applies on top. A blob missing parts
   * (torn by a crash under at-least-once, before its meta record) is ignored,
   * so the state stays the one its positions belong to.
   */
  private fragment(key: string, value: Buffer | null): void {
    if (value === null || value.length === 0) { this.liveKeys.delete(key); return; }
    const parts = key.split(SEP);
    const i = Number(parts[4]), n = Number(parts[5]);
    const id = parts.slice(0, 4).join(SEP);
    let received = this.pending.get(id);
    if (i === 0) { received = []; this.pending.set(id, received); }
    // A part out of turn belongs to a blob torn by a crash (at-least-once): that blob is ignored.
    if (!received || received.length !== i) { this.pending.delete(id); return; }
    received.push(value);
    if (received.length < n) return;
    this.pending.delete(id);
    const full = parts[0] === 'f';
    if (full) { this.operators.clear(); this.liveKeys.clear(); }
    received.forEach((bytes, p) => this.applyPart(v8.deserialize(bytes) as StateBlob, p === 0, full, Number(parts[1])));
    for (let f = 0; f < n; f++) this.liveKeys.add(`${id}${SEP}${f}${SEP}${n}`);
  }

  /** Applies one part of a blob (the first part of a full state sets the materialization bookkeeping). */
  private applyPart(blob: StateBlob, first: boolean, full: boolean, epoch: number): void {
    if (full && first) {
      for (const k of blob.live ?? []) this.liveKeys.add(k);
      this.epoch = epoch;
      this.deltaEntries = blob.deltaEntries ?? 0;
    } else if (!full) {
      this.epoch = Math.max(this.epoch, epoch);
      this.deltaEntries += entryCount(blob.operators);
    }
    for (const op of blob.operators) this.apply(op);
  }

  private operator(uid: string): RestoredOperator {
    let op = this.operators.get(uid);
    if (!op) { op = { tables: new Map(), timers: { event: new Map(), processing: new Map() } }; this.operators.set(uid, op); }
    return op;
  }

  private apply(columns: OperatorColumns): void {
    const op = this.operator(columns.uid);
    for (const [name, keys, values] of columns.tables) {
      let table = op.tables.get(name);
      if (!table) { table = new Map(); op.tables.set(name, table); }
      for (let i = 0; i < keys.length; i++) {
        if (values[i] === undefined) table.delete(keys[i]);
        else table.set(keys[i], values[i]);
      }
    }
    for (const [domain, keys, timestamps, live] of columns.timers) {
      for (let i = 0; i < keys.length; i++) this.timer(op, domain, keys[i], timestamps[i], live[i]);
    }
  }

  private timer(op: RestoredOperator, domain: TimeDomain, key: unknown, timestamp: number, live: boolean): void {
    const byKey = op.timers[domain];
    let stamps = byKey.get(key);
    if (live) {
      if (!stamps) { stamps = new Set(); byKey.set(key, stamps); }
      stamps.add(timestamp);
    } else if (stamps) {
      stamps.delete(timestamp);
      if (stamps.size === 0) byKey.delete(key);
    }
  }

  /** A record of the one-record-per-entry format: `s ␀ uid ␀ table ␀ key` (value [key, value]) or `t ␀ uid ␀ domain ␀ key-id ␀ timestamp` (value [key, timestamp]). */
  private legacy(key: string, value: Buffer | null): void {
    const parts = key.split(SEP);
    const op = this.operator(parts[1]);
    const tombstone = value === null || value.length === 0;
    if (tombstone) this.liveKeys.delete(key); else this.liveKeys.add(key);
    if (parts[0] === 's') {
      let table = op.tables.get(parts[2]);
      if (!table) { table = new Map(); op.tables.set(parts[2], table); }
      if (tombstone) { table.delete(legacyKey(parts.slice(3).join(SEP))); return; }
      const [k, v] = v8.deserialize(value) as [unknown, unknown];
      table.set(k, v);
      return;
    }
    const domain = parts[2] as TimeDomain;
    if (tombstone) {
      const id = parts[3];
      const k = id[0] === 's' ? id.slice(1) : id[0] === 'b' ? BigInt(id.slice(1)) : Number(id.slice(1));
      this.timer(op, domain, k, Number(parts[4]), false);
      return;
    }
    const [k, timestamp] = v8.deserialize(value) as [unknown, number];
    this.timer(op, domain, k, timestamp, true);
  }

  get meta(): TaskMeta | null {
    return this.metaBytes ? v8.deserialize(this.metaBytes) as TaskMeta : null;
  }

  /** The restored entries of one state table of an operator (tests and diagnostics). */
  table(uid: string, name: string): ReadonlyMap<unknown, unknown> | undefined {
    return this.operators.get(uid)?.tables.get(name);
  }

  /** Entries and timers held. */
  get size(): number {
    let n = 0;
    for (const op of this.operators.values()) {
      for (const table of op.tables.values()) n += table.size;
      for (const byKey of Object.values(op.timers)) for (const stamps of byKey.values()) n += stamps.size;
    }
    return n;
  }

  /**
   * The state as records of its own (a local cache rewriting itself): one
   * full state, which carries the live changelog keys and delta count it
   * replaces, and the meta record. Call before applyTo: restored values are
   * handed to the operators as they are.
   */
  toRecords(checkpoint: number): ChangelogRecord[] {
    const operators: OperatorColumns[] = [];
    for (const [uid, op] of this.operators) {
      const tables: TableColumns[] = [...op.tables].filter(([, t]) => t.size).map(([name, t]) => [name, [...t.keys()], [...t.values()]]);
      const timers: TimerColumns[] = [];
      for (const domain of ['event', 'processing'] as const) {
        const keys: unknown[] = [], timestamps: number[] = [];
        for (const [k, stamps] of op.timers[domain]) for (const ts of stamps) { keys.push(k); timestamps.push(ts); }
        if (keys.length) timers.push([domain, keys, timestamps, keys.map(() => true)]);
      }
      if (tables.length || timers.length) operators.push({ uid, tables, timers });
    }
    const records = fragments(`f${SEP}${this.epoch}${SEP}${checkpoint}${SEP}local`, { v: 2, operators, live: [...this.liveKeys], deltaEntries: this.deltaEntries });
    if (this.metaBytes) records.push({ key: META_KEY, value: this.metaBytes });
    return records;
  }

  /**
   * Loads keyed state and timers into a freshly created task (its operators
   * are created, no record has arrived). State of an operator uid the stage no
   * longer has is left out and counted.
   */
  applyTo(runtime: InstanceRuntime, manifest: Manifest, nodes: readonly number[]): { entries: number; timers: number; dropped: number } {
    const byUid = new Map(nodes.map((n) => [uidOf(manifest, n), n]));
    let entries = 0, dropped = 0, restoredTimers = 0;
    for (const [uid, op] of this.operators) {
      const nodeId = byUid.get(uid);
      const backend = nodeId === undefined ? undefined : runtime.backends.get(nodeId);
      for (const [name, table] of op.tables) {
        if (!backend) { dropped += table.size; continue; }
        for (const [k, value] of table) backend.restoreEntry(name, k, value);
        entries += table.size;
      }
      const list: Array<{ domain: TimeDomain; key: unknown; timestamp: number }> = [];
      for (const domain of ['event', 'processing'] as const) {
        for (const [key, stamps] of op.timers[domain]) for (const timestamp of stamps) list.push({ domain, key, timestamp });
      }
      if (list.length === 0) continue;
      const service = nodeId === undefined ? undefined : runtime.timers.get(nodeId);
      if (!service) { dropped += list.length; continue; }
      service.restoreTimers(list);
      restoredTimers += list.length;
    }
    const meta = this.meta;
    if (meta) {
      const generators = new Map(meta.generators);
      for (const [nodeId, generator] of runtime.generators) {
        const seen = generators.get(uidOf(manifest, nodeId));
        if (seen !== undefined) generator.maxSeen = seen;
      }
      runtime.coordinator.restore(meta.coordinator);
    }
    return { entries, timers: restoredTimers, dropped };
  }
}
