/**
 * Checkpoints of a job run in one process (`local.mjs`, single-process stage
 * workers) with an unbounded source: the `file` store, a directory
 * (PIPEC_CHECKPOINT_DIR, default `.pipec-checkpoints`, then the pipeline's
 * name) holding one append-only log.
 *
 * Every `checkpoint.interval` the job is cut between two records: for every
 * instance, the keyed-state entries and timers touched since the last
 * checkpoint (the same records as a stage worker's changelog, see
 * distributed/task-state.ts) and its watermarks, plus every source's position.
 * Then the sinks flush, the cut is appended to the log as one frame
 * (length, CRC-32, V8-serialized body) and fsynced, and only then are sources
 * and sinks told: a Kafka source commits its offsets, a file sink publishes
 * what the cut staged (its state is in the frame). A crash leaves at most a torn last
 * frame, which is ignored. When the log has grown to several times the state
 * it holds, it is rewritten as one frame into a temporary file, fsynced and
 * renamed over the log (and the directory fsynced).
 *
 * On start the log is read: each instance's state, timers and watermarks are
 * restored before any user function opens, and sources resume after their
 * positions (a Kafka source skips records its group committed before the
 * crash but the checkpoint had not). State is exactly-once, and so are file
 * sinks (they publish on checkpoints and repair their target on restart);
 * other sinks are at-least-once (what they wrote since the last checkpoint
 * may be written again). The job's last checkpoint is taken when it ends
 * (SIGTERM, or its inputs end), after its sources stop.
 */
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import zlib from 'node:zlib';
import type { Logger } from '../log.ts';
import type { Manifest } from '../manifest.ts';
import { ChangelogWriter, metaRecord, RestoredState, runtimeSnapshot, type ChangelogRecord, type TaskMeta } from '../distributed/task-state.ts';
import type { LocalJob } from './job.ts';

/** One checkpoint in the log. */
interface Frame {
  checkpoint: number;
  /** Per instance `<stage>/<subtask>`: changed entries, timers and its meta record. */
  instances: Record<string, ChangelogRecord[]>;
  /** Per source `<node>/<subtask>`: its position. */
  sources: Record<string, unknown>;
  /** Per sink uid that takes part in checkpoints (a file sink): what this checkpoint publishes. */
  sinks?: Record<string, unknown>;
}

const LOG = 'checkpoints.log';
const COMPACT_AT_BYTES = 64 << 20;

/** The directory of a pipeline's checkpoints. */
export function checkpointDirectory(manifest: Manifest): string {
  return path.resolve(process.env.PIPEC_CHECKPOINT_DIR ?? '.pipec-checkpoints', manifest.pipeline);
}

/**
 * Reads the complete frames of a log (length, CRC-32, V8-serialized body):
 * the longest valid prefix. A torn last frame (a crash while writing) or
 * anything after a damaged one is left out.
 */
export function readFrames<T = Frame>(file: string): { frames: T[]; validBytes: number } {
  if (!fs.existsSync(file)) return { frames: [], validBytes: 0 };
  const bytes = fs.readFileSync(file);
  const frames: T[] = [];
  let at = 0;
  while (at + 8 <= bytes.length) {
    const length = bytes.readUInt32LE(at);
    const crc = bytes.readUInt32LE(at + 4);
    if (length === 0 || at + 8 + length > bytes.length) break;
    const body = bytes.subarray(at + 8, at + 8 + length);
    if (zlib.crc32(body) !== crc) break;
    try { frames.push(v8.deserialize(body) as T); } catch { break; }
    at += 8 + length;
  }
  return { frames, validBytes: at };
}

/** One frame of a log, as readFrames reads it. */
export function frameBytes(frame: unknown): Buffer {
  const body = v8.serialize(frame);
  const head = Buffer.alloc(8);
  head.writeUInt32LE(body.length, 0);
  head.writeUInt32LE(zlib.crc32(body), 4);
  return Buffer.concat([head, body]);
}

/** Where a one-process job's checkpoint log lives: an append-only sequence of frames, replaced as a whole when compacted. */
interface CheckpointLog {
  /** Where it is (logs). */
  readonly location: string;
  /** The complete frames, in order (a torn last one, after a crash, is dropped). */
  read(): Promise<Frame[]>;
  /** Appends a frame durably; resolves with its size in bytes. */
  append(frame: Frame): Promise<number>;
  /** Replaces every frame with this one, atomically; resolves with its size. */
  replace(frame: Frame): Promise<number>;
  close(): Promise<void>;
}

/** The `file` store: `<directory>/checkpoints.log`, CRC-framed, fsynced; compaction through a temporary file and a rename. */
class FileCheckpointLog implements CheckpointLog {
  private readonly file: string;
  private fd: number | null = null;
  constructor(private readonly directory: string, private readonly log: Logger) {
    this.file = path.join(directory, LOG);
  }
  get location(): string { return this.directory; }
  async read(): Promise<Frame[]> {
    fs.mkdirSync(this.directory, { recursive: true });
    const { frames, validBytes } = readFrames(this.file);
    if (fs.existsSync(this.file) && fs.statSync(this.file).size > validBytes) {
      this.log.warn({ file: this.file, kept: validBytes }, 'the last checkpoint was torn by a crash: resuming from the one before');
      fs.truncateSync(this.file, validBytes);
    }
    return frames;
  }
  async append(frame: Frame): Promise<number> {
    const bytes = frameBytes(frame);
    this.fd ??= fs.openSync(this.file, 'a');
    fs.writeSync(this.fd, bytes);
    fs.fsyncSync(this.fd);
    return bytes.length;
  }
  async replace(frame: Frame): Promise<number> {
    const bytes = frameBytes(frame);
    const tmp = `${this.file}.tmp`;
    const fd = fs.openSync(tmp, 'w');
    fs.writeSync(fd, bytes);
    fs.fsyncSync(fd);
    fs.closeSync(fd);
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.renameSync(tmp, this.file);
    const dir = fs.openSync(this.directory, 'r');
    fs.fsyncSync(dir);
    fs.closeSync(dir);
    return bytes.length;
  }
  async close(): Promise<void> {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}

/**
 * The `redis` store (PIPEC_REDIS_URL): the frames are the elements of the list
 * `pipec:checkpoints:<pipeline>`. An element is written whole or not at all,
 * and compaction replaces the list in one MULTI/EXEC. A checkpoint is as
 * durable as the server's persistence makes it (appendonly with appendfsync
 * always for every write; the default everysec may lose the last second of
 * checkpoints if Redis itself crashes). While Redis is unreachable the client
 * reconnects with backoff and checkpoints wait; the job goes on.
 */
class RedisCheckpointLog implements CheckpointLog {
  private client: Promise<RedisClient> | null = null;
  readonly key: string;
  constructor(pipeline: string, private readonly log: Logger) {
    this.key = `pipec:checkpoints:${pipeline}`;
  }
  get location(): string { return `redis ${this.key}`; }
  private connect(): Promise<RedisClient> {
    return (this.client ??= (async () => {
      const url = process.env.PIPEC_REDIS_URL;
      if (!url) throw new Error("checkpoint: { store: 'redis' } needs PIPEC_REDIS_URL (redis://[:password@]host:port[/db])");
      const { Redis } = await import('ioredis');
      // Commands wait while the connection is down, also before the first one succeeds (a checkpoint, or the restore
      // before the job starts, waits; the job goes on), instead of failing after 20 retries.
      const client = new Redis(url, { maxRetriesPerRequest: null, retryStrategy: (attempt) => Math.min(200 * attempt, 5000) });
      client.on('error', (error: Error) => this.log.warn({ err: error.message }, 'checkpoint store: Redis connection error; retrying'));
      return client;
    })());
  }
  async read(): Promise<Frame[]> {
    const client = await this.connect();
    return (await client.lrangeBuffer(this.key, 0, -1)).map((bytes) => v8.deserialize(bytes) as Frame);
  }
  async append(frame: Frame): Promise<number> {
    const bytes = v8.serialize(frame);
    await (await this.connect()).rpush(this.key, bytes);
    return bytes.length;
  }
  async replace(frame: Frame): Promise<number> {
    const bytes = v8.serialize(frame);
    const result = await (await this.connect()).multi().del(this.key).rpush(this.key, bytes).exec();
    const failed = result?.find(([error]) => error);
    if (!result || failed) throw new Error(`checkpoint store: compacting ${this.key} failed: ${failed?.[0]?.message ?? 'the transaction was aborted'}`);
    return bytes.length;
  }
  async close(): Promise<void> {
    const client = this.client;
    this.client = null;
    if (client) await client.then((c) => c.quit()).catch(() => undefined);
  }
}

/** The part of ioredis the store uses. */
interface RedisClient {
  lrangeBuffer(key: string, start: number, stop: number): Promise<Buffer[]>;
  rpush(key: string, value: Buffer): Promise<number>;
  multi(): { del(key: string): ReturnType<RedisClient['multi']>; rpush(key: string, value: Buffer): ReturnType<RedisClient['multi']>; exec(): Promise<Array<[Error | null, unknown]> | null> };
  quit(): Promise<unknown>;
}

/** Periodic checkpoints of one LocalJob, to the pipeline's store (`file` unless `checkpoint.store` is 'redis'). */
export class LocalCheckpoints {
  private readonly store: CheckpointLog;
  private checkpoints = 0;
  private restored = new Map<string, RestoredState>();
  /** Per instance `<stage>/<subtask>`: what its checkpoints write of its state (deltas: the log compacts itself). */
  private readonly writers = new Map<string, ChangelogWriter>();
  private positions: Record<string, unknown> = {};
  private sinkStates: Record<string, unknown> = {};
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private busy = false;
  private logBytes = 0;
  private lastFrameBytes = 0;

  constructor(private readonly job: LocalJob, private readonly manifest: Manifest, private readonly log: Logger, directory = checkpointDirectory(manifest)) {
    this.store = manifest.checkpoint?.store === 'redis' ? new RedisCheckpointLog(manifest.pipeline, log) : new FileCheckpointLog(directory, log);
  }

  /** Where the checkpoints are (a folder, or a Redis key). */
  get location(): string { return this.store.location; }

  /** Reads the log (before the job starts). */
  async load(): Promise<void> {
    const frames = await this.store.read();
    let bytes = 0;
    for (const frame of frames) {
      this.checkpoints = frame.checkpoint;
      for (const [instance, records] of Object.entries(frame.instances)) {
        let state = this.restored.get(instance);
        if (!state) { state = new RestoredState(); this.restored.set(instance, state); }
        for (const r of records) { state.add(r.key, r.value); bytes += r.key.length + (r.value?.length ?? 0); }
      }
      Object.assign(this.positions, frame.sources);
      Object.assign(this.sinkStates, frame.sinks ?? {});
    }
    this.logBytes = bytes;
    if (frames.length) this.log.info({ store: this.store.location, checkpoint: this.checkpoints, instances: this.restored.size }, 'restoring from the last checkpoint');
  }

  /** Restores state and source positions into the job's freshly created instances (LocalJob's onCreated). */
  restore(): void {
    for (const [instance, state] of this.restored) {
      const [stage, subtask] = instance.split('/').map(Number);
      const runtime = this.job.runtimes[stage]?.[subtask];
      if (!runtime) { this.log.warn({ instance }, 'checkpointed state of an instance this build does not run was left out'); continue; }
      state.applyTo(runtime, this.manifest, this.manifest.stages[stage].nodes);
    }
    this.job.restoreSourcePositions(this.positions);
    this.job.initializeSinks(this.sinkStates);
    this.restored = new Map();
  }

  /** Checkpoints every `interval` ms until stopped (a tick while a checkpoint is still being written is skipped). */
  start(interval: number): void {
    this.timer = setInterval(() => {
      if (this.busy) return;
      void this.checkpoint().catch((error: unknown) => this.job.fail(error));
    }, interval);
    this.timer.unref();
  }

  /** Takes one checkpoint (checkpoints run one after another). */
  checkpoint(): Promise<void> {
    const run = this.running.then(() => this.take());
    this.running = run.catch(() => undefined);
    return run;
  }

  /** Stops the clock; the last checkpoint (SIGTERM) is taken by the caller. */
  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async take(): Promise<void> {
    if (this.job.hasFailed) return;
    this.busy = true;
    try {
      // The cut: synchronous, between two records.
      const instances: Record<string, ChangelogRecord[]> = {};
      for (const [stage, runtimes] of this.job.runtimes.entries()) {
        if (!runtimes) continue;
        for (const [subtask, runtime] of runtimes.entries()) {
          const meta: TaskMeta = {
            version: 1, checkpoint: this.checkpoints + 1, positions: {}, partitionWatermarks: {},
            ...runtimeSnapshot(runtime, this.manifest),
            ended: false,
          };
          const instance = `${stage}/${subtask}`;
          let writer = this.writers.get(instance);
          if (!writer) { writer = new ChangelogWriter(null, { materialize: false }); this.writers.set(instance, writer); }
          instances[instance] = [...writer.cut(runtime, this.manifest, meta.checkpoint), metaRecord(meta)];
        }
      }
      const sources = this.job.sourcePositions();
      const sinks = this.job.snapshotSinks();
      const frame: Frame = { checkpoint: this.checkpoints + 1, instances, sources, sinks };
      // Sinks first: the positions in this checkpoint may be committed only once what they produced is out (or staged).
      await this.job.flush();
      const bytes = await this.store.append(frame);
      this.checkpoints = frame.checkpoint;
      this.logBytes += bytes;
      this.lastFrameBytes = bytes;
      this.job.checkpointComplete(sources);
      this.job.sinksCheckpointComplete(sinks);
      if (this.logBytes > COMPACT_AT_BYTES) await this.compact();
    } finally {
      this.busy = false;
    }
  }

  /** Rewrites the log as one frame: per instance one full state and its meta record. */
  private async compact(): Promise<void> {
    const frames = await this.store.read();
    const merged = new Map<string, RestoredState>();
    const sources: Record<string, unknown> = {};
    const sinks: Record<string, unknown> = {};
    for (const frame of frames) {
      for (const [instance, records] of Object.entries(frame.instances)) {
        let state = merged.get(instance);
        if (!state) { state = new RestoredState(); merged.set(instance, state); }
        for (const r of records) state.add(r.key, r.value);
      }
      Object.assign(sources, frame.sources);
      Object.assign(sinks, frame.sinks ?? {});
    }
    const frame: Frame = {
      checkpoint: this.checkpoints, sources, sinks,
      instances: Object.fromEntries([...merged].map(([instance, state]) => [instance, state.toRecords(this.checkpoints)])),
    };
    const size = v8.serialize(frame).length;
    if (size * 4 > this.logBytes) return; // mostly live state: compacting would not gain much yet
    const before = this.logBytes;
    this.logBytes = await this.store.replace(frame);
    this.log.info({ store: this.store.location, before, after: this.logBytes, lastCheckpoint: this.lastFrameBytes }, 'checkpoint log compacted');
  }

  /** Closes the store. */
  async close(): Promise<void> {
    this.stop();
    await this.store.close();
  }
}
