/**
 * A stage worker task's state as changelog records (Kafka Streams' changelog
 * topics): one compacted record per keyed-state entry and per timer, keyed by
 * the operator's uid, the state's table and the key, and one `meta` record
 * with everything else the task's results depend on — input positions,
 * per-partition and per-origin watermarks and idleness, watermark generators,
 * whether the input has ended. A checkpoint writes only what changed since the
 * previous one (the touched entries, as tombstones when deleted) plus the meta
 * record; a task restores by reading its changelog partition to the end, the
 * last record of each key winning, as compaction would leave it.
 *
 * Values are written with V8's structured serialization (node:v8), which
 * keeps Map, Set, Date, bigint, typed arrays, undefined, NaN and ±∞; class
 * instances come back as plain objects.
 */
import v8 from 'node:v8';
import type { InstanceRuntime } from '../local/job.ts';
import type { CoordinatorSnapshot } from '../watermarks.ts';
import type { Manifest } from '../manifest.ts';

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

/** The stable id of a node's state: its uid from the manifest (the node id for manifests without uids). */
export function uidOf(manifest: Manifest, nodeId: number): string {
  return (manifest.nodes[nodeId] as { uid?: string }).uid ?? `node-${nodeId}`;
}

/** A key's text in a changelog key: its type and its text, so 1 and '1' stay apart. */
function keyId(key: unknown): string {
  switch (typeof key) {
    case 'string': return `s${key}`;
    case 'number': return `n${key}`;
    case 'bigint': return `b${key}`;
    case 'undefined': return 'u';
    default: return `o${v8.serialize(key).toString('base64')}`;
  }
}

const SEP = '\u0000';

/** The changelog records for everything the task's keyed state and timers changed since the last call. */
export function takeStateChanges(runtime: InstanceRuntime, manifest: Manifest): ChangelogRecord[] {
  const records: ChangelogRecord[] = [];
  for (const [nodeId, backend] of runtime.backends) {
    const uid = uidOf(manifest, nodeId);
    for (const change of backend.takeChanges()) {
      records.push({ key: `s${SEP}${uid}${SEP}${change.table}${SEP}${keyId(change.key)}`, value: change.value === undefined ? null : v8.serialize([change.key, change.value]) });
    }
  }
  for (const [nodeId, timers] of runtime.timers) {
    const uid = uidOf(manifest, nodeId);
    for (const t of timers.takeChanges()) {
      records.push({ key: `t${SEP}${uid}${SEP}${t.domain}${SEP}${t.id}`, value: t.live ? v8.serialize([t.key, t.timestamp]) : null });
    }
  }
  return records;
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

/** A task's changelog read to the end: the last value of each key (tombstones drop the key). */
export class RestoredState {
  private readonly latest = new Map<string, Buffer>();
  /** Changelog records read (for logs). */
  records = 0;

  add(key: string, value: Buffer | null): void {
    this.records++;
    if (value === null || value.length === 0) this.latest.delete(key);
    else this.latest.set(key, value);
  }

  get meta(): TaskMeta | null {
    const bytes = this.latest.get(META_KEY);
    return bytes ? v8.deserialize(bytes) as TaskMeta : null;
  }

  get size(): number { return this.latest.size; }

  /** The last value of each key (the meta record too). */
  entries(): IterableIterator<[string, Buffer]> { return this.latest.entries(); }

  /**
   * Loads keyed state and timers into a freshly created task (its operators
   * are created, no record has arrived). State of an operator uid the stage no
   * longer has is left out and counted.
   */
  applyTo(runtime: InstanceRuntime, manifest: Manifest, nodes: readonly number[]): { entries: number; timers: number; dropped: number } {
    const byUid = new Map(nodes.map((n) => [uidOf(manifest, n), n]));
    const timers = new Map<number, Array<{ domain: 'event' | 'processing'; key: unknown; timestamp: number }>>();
    let entries = 0, dropped = 0, restoredTimers = 0;
    for (const [key, bytes] of this.latest) {
      if (key === META_KEY) continue;
      const [kind, uid, name] = key.split(SEP, 3);
      const nodeId = byUid.get(uid);
      if (nodeId === undefined) { dropped++; continue; }
      if (kind === 's') {
        const backend = runtime.backends.get(nodeId);
        if (!backend) { dropped++; continue; }
        const [k, value] = v8.deserialize(bytes) as [unknown, unknown];
        backend.restoreEntry(name, k, value);
        entries++;
      } else if (kind === 't') {
        const [k, timestamp] = v8.deserialize(bytes) as [unknown, number];
        let list = timers.get(nodeId);
        if (!list) { list = []; timers.set(nodeId, list); }
        list.push({ domain: name as 'event' | 'processing', key: k, timestamp });
        restoredTimers++;
      }
    }
    for (const [nodeId, list] of timers) {
      const service = runtime.timers.get(nodeId);
      if (!service) { dropped += list.length; continue; }
      service.restoreTimers(list);
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
