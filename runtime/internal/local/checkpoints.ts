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
import { metaRecord, RestoredState, takeStateChanges, uidOf, type ChangelogRecord, type TaskMeta } from '../distributed/task-state.ts';
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

/** Periodic file checkpoints of one LocalJob. */
export class LocalCheckpoints {
  private readonly file: string;
  private fd: number | null = null;
  private checkpoints = 0;
  private restored = new Map<string, RestoredState>();
  private positions: Record<string, unknown> = {};
  private sinkStates: Record<string, unknown> = {};
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> = Promise.resolve();
  private logBytes = 0;
  private lastFrameBytes = 0;

  constructor(private readonly job: LocalJob, private readonly manifest: Manifest, private readonly log: Logger, readonly directory = checkpointDirectory(manifest)) {
    this.file = path.join(directory, LOG);
  }

  /** Reads the log (before the job starts). */
  load(): void {
    fs.mkdirSync(this.directory, { recursive: true });
    const { frames, validBytes } = readFrames(this.file);
    if (fs.existsSync(this.file) && fs.statSync(this.file).size > validBytes) {
      this.log.warn({ file: this.file, kept: validBytes }, 'the last checkpoint was torn by a crash: resuming from the one before');
      fs.truncateSync(this.file, validBytes);
    }
    for (const frame of frames) {
      this.checkpoints = frame.checkpoint;
      for (const [instance, records] of Object.entries(frame.instances)) {
        let state = this.restored.get(instance);
        if (!state) { state = new RestoredState(); this.restored.set(instance, state); }
        for (const r of records) state.add(r.key, r.value);
      }
      Object.assign(this.positions, frame.sources);
      Object.assign(this.sinkStates, frame.sinks ?? {});
    }
    this.logBytes = validBytes;
    if (frames.length) this.log.info({ directory: this.directory, checkpoint: this.checkpoints, instances: this.restored.size }, 'restoring from the last checkpoint');
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

  /** Checkpoints every `interval` ms until stopped. */
  start(interval: number): void {
    this.timer = setInterval(() => { void this.checkpoint().catch((error: unknown) => this.job.fail(error)); }, interval);
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
    // The cut: synchronous, between two records.
    const instances: Record<string, ChangelogRecord[]> = {};
    for (const [stage, runtimes] of this.job.runtimes.entries()) {
      if (!runtimes) continue;
      for (const [subtask, runtime] of runtimes.entries()) {
        const meta: TaskMeta = {
          version: 1, checkpoint: this.checkpoints + 1, positions: {}, partitionWatermarks: {},
          coordinator: runtime.coordinator.snapshot(),
          generators: [...runtime.generators].map(([nodeId, g]) => [uidOf(this.manifest, nodeId), g.maxSeen]),
          ended: false,
        };
        instances[`${stage}/${subtask}`] = [...takeStateChanges(runtime, this.manifest), metaRecord(meta)];
      }
    }
    const sources = this.job.sourcePositions();
    const sinks = this.job.snapshotSinks();
    const frame: Frame = { checkpoint: this.checkpoints + 1, instances, sources, sinks };
    // Sinks first: the positions in this checkpoint may be committed only once what they produced is out (or staged).
    await this.job.flush();
    const bytes = frameBytes(frame);
    this.fd ??= fs.openSync(this.file, 'a');
    fs.writeSync(this.fd, bytes);
    fs.fsyncSync(this.fd);
    this.checkpoints = frame.checkpoint;
    this.logBytes += bytes.length;
    this.lastFrameBytes = bytes.length;
    this.job.checkpointComplete(sources);
    this.job.sinksCheckpointComplete(sinks);
    if (this.logBytes > COMPACT_AT_BYTES) this.compact();
  }

  /** Rewrites the log as one frame with the latest value of every key (tmp file, fsync, rename, fsync the directory). */
  private compact(): void {
    const { frames } = readFrames(this.file);
    const merged = new Map<string, Map<string, Buffer | null>>();
    const sources: Record<string, unknown> = {};
    const sinks: Record<string, unknown> = {};
    for (const frame of frames) {
      for (const [instance, records] of Object.entries(frame.instances)) {
        let m = merged.get(instance);
        if (!m) { m = new Map(); merged.set(instance, m); }
        for (const r of records) { if (r.value === null) m.delete(r.key); else m.set(r.key, r.value); }
      }
      Object.assign(sources, frame.sources);
      Object.assign(sinks, frame.sinks ?? {});
    }
    const frame: Frame = {
      checkpoint: this.checkpoints, sources, sinks,
      instances: Object.fromEntries([...merged].map(([instance, m]) => [instance, [...m].map(([key, value]) => ({ key, value }))])),
    };
    const bytes = frameBytes(frame);
    if (bytes.length * 4 > this.logBytes) return; // mostly live state: compacting would not gain much yet
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
    this.log.info({ before: this.logBytes, after: bytes.length, lastCheckpoint: this.lastFrameBytes }, 'checkpoint log compacted');
    this.logBytes = bytes.length;
  }

  /** Closes the log file. */
  close(): void {
    this.stop();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
  }
}
