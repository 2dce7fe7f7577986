/**
 * What a stage worker keeps on its machine's disk, under
 * `<PIPEC_CHECKPOINT_DIR>/<pipeline>/workers/<group>/`: a cache of what is in
 * Kafka, so that a worker restarted on the same machine (a crash, a deploy,
 * a container restart with its volume) is back in well under a second.
 * Nothing in it is needed for correctness: a worker that finds none, or one
 * it cannot trust, reads Kafka as it would on a new machine.
 *
 * - **Task state** (Kafka Streams' local state store and `.checkpoint`
 *   file): per task, a log of the changelog records of its committed
 *   checkpoints, each frame with the changelog offset it reaches (a checkpoint
 *   that wrote a full state replaces the log). A task that
 *   starts here again loads the log and reads only the changelog's tail after
 *   that offset (what another worker committed meanwhile, or the checkpoint
 *   whose frame a crash cut off), instead of the whole partition. A frame is
 *   appended only after its checkpoint committed; frames are CRC-framed, and
 *   reading stops at the first torn or damaged one, so any prefix is a state
 *   together with the offset it is exact at. A log whose checkpoints do not
 *   increase (a fenced owner's late append), whose offset is beyond the
 *   changelog's end (the topic was recreated), or whose last frame is older
 *   than LOCAL_STATE_MAX_AGE_MS (tombstones after it may have been compacted
 *   away) is not used.
 * - **Member ids** (what Kafka's static membership gives Kafka Streams, and
 *   kafkajs lacks): each worker process records its group member id. A
 *   worker that starts removes the members of earlier processes on this
 *   machine that are gone (LeaveGroup on their behalf), so the group
 *   rebalances at once instead of waiting out a dead member's session.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Logger } from '../log.ts';
import type { Manifest } from '../manifest.ts';
import { checkpointDirectory, frameBytes, readFrames } from '../local/checkpoints.ts';
import { isFullState, RestoredState, type ChangelogRecord } from './task-state.ts';

/**
 * The age beyond which a task's local state is not used: half of Kafka's
 * default delete.retention.ms (24 h), for which a compacted changelog keeps
 * the tombstones a local copy older than that would need.
 */
export const LOCAL_STATE_MAX_AGE_MS = 12 * 3600_000;


/** One frame of a task's log: a committed checkpoint's changelog records (or, first, a whole state). */
interface TaskFrame {
  checkpoint: number;
  /** The changelog offset after this frame: the state is exact as of the changelog up to here. */
  next: string;
  /** When it was written (ms). */
  at: number;
  records: ChangelogRecord[];
}

/** The folder of a stage worker group's local files. */
export function workerDirectory(manifest: Manifest, group: string): string {
  return path.join(checkpointDirectory(manifest), 'workers', group.replace(/[^\w.-]/g, '_'));
}

/** A task's local state log. Every method catches its own I/O errors: a failing disk disables the cache, never the task. */
export class LocalTaskStore {
  private readonly file: string;
  private fd: number | null = null;
  private lastCheckpoint = 0;
  private disabled = false;

  constructor(directory: string, task: number, private readonly log: Logger) {
    this.file = path.join(directory, `task-${task}.log`);
  }

  /** The state of the log's valid prefix and the changelog offset it is exact at; null when there is none to trust. */
  load(): { state: RestoredState; next: bigint; checkpoint: number } | null {
    try {
      const { frames, validBytes } = readFrames<TaskFrame>(this.file);
      if (frames.length === 0) return null;
      let previous: TaskFrame | null = null;
      for (const frame of frames) {
        if (previous && (frame.checkpoint <= previous.checkpoint || BigInt(frame.next) < BigInt(previous.next))) {
          this.log.info({ file: this.file }, 'local task state was appended out of order (a fenced owner): reading the changelog instead');
          return null;
        }
        previous = frame;
      }
      const last = frames[frames.length - 1];
      if (Date.now() - last.at > LOCAL_STATE_MAX_AGE_MS) {
        this.log.info({ file: this.file, ageHours: Math.round((Date.now() - last.at) / 3600_000) }, 'local task state is too old to trust: reading the changelog instead');
        return null;
      }
      const state = new RestoredState();
      for (const frame of frames) for (const r of frame.records) state.add(r.key, r.value);
      if (fs.statSync(this.file).size > validBytes) fs.truncateSync(this.file, validBytes);
      this.lastCheckpoint = last.checkpoint;
      return { state, next: BigInt(last.next), checkpoint: last.checkpoint };
    } catch (error) {
      this.log.warn({ file: this.file, err: error }, 'could not read local task state: reading the changelog instead');
      return null;
    }
  }

  /** Replaces the log by one frame holding a whole state (after a restore from the changelog). */
  rewrite(state: RestoredState, checkpoint: number, next: bigint): void {
    this.write(() => {
      const bytes = frameBytes({ checkpoint, next: String(next), at: Date.now(), records: state.toRecords(checkpoint) } satisfies TaskFrame);
      this.replace(bytes);
      this.lastCheckpoint = checkpoint;
    });
  }

  /**
   * Appends a committed checkpoint's changelog records, exact as of changelog
   * offset `next`. A checkpoint that wrote a full state (task-state.ts
   * materializes once the deltas outgrow the state) holds the whole state:
   * it replaces the log, which so stays as small as the changelog after
   * compaction.
   */
  append(checkpoint: number, next: bigint, records: ChangelogRecord[]): void {
    if (checkpoint <= this.lastCheckpoint) { this.drop(); return; }
    this.write(() => {
      const bytes = frameBytes({ checkpoint, next: String(next), at: Date.now(), records } satisfies TaskFrame);
      if (records[0] && isFullState(records[0].key)) this.replace(bytes);
      else {
        this.fd ??= fs.openSync(this.file, 'a');
        fs.writeSync(this.fd, bytes);
      }
      this.lastCheckpoint = checkpoint;
    });
  }

  /** Stops using the log and removes it (its state can no longer be matched with the changelog). */
  drop(): void {
    this.write(() => {
      this.close();
      fs.rmSync(this.file, { force: true });
    });
    this.disabled = true;
  }

  close(): void {
    if (this.fd !== null) { try { fs.closeSync(this.fd); } catch { /* already closed */ } }
    this.fd = null;
  }

  private write(action: () => void): void {
    if (this.disabled) return;
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      action();
    } catch (error) {
      this.disabled = true;
      this.close();
      this.log.warn({ file: this.file, err: error }, 'could not write local task state: restarts of this task will read its whole changelog');
    }
  }

  /** Writes `bytes` as the whole log: a temporary file renamed over it. */
  private replace(bytes: Buffer): void {
    this.close();
    const tmp = `${this.file}.${process.pid}.tmp`;
    fs.writeFileSync(tmp, bytes);
    fs.renameSync(tmp, this.file);
  }
}

/** The member ids of a stage's worker processes on this machine: one file per process, named by its pid. */
export class LocalMembers {
  private readonly directory: string;
  private recorded: string | null = null;

  constructor(workerDir: string, private readonly log: Logger) {
    this.directory = path.join(workerDir, 'members');
  }

  /**
   * The member ids of earlier worker processes here that are gone: their
   * process is not running, or its pid is ours (a restarted container's
   * first process has the same pid as the one before). Their files are
   * removed.
   */
  departed(): string[] {
    const ids: string[] = [];
    let names: string[];
    try { names = fs.readdirSync(this.directory); } catch { return ids; }
    for (const name of names) {
      const pid = Number(name.replace(/\.member$/, ''));
      if (!name.endsWith('.member') || !Number.isInteger(pid)) continue;
      if (pid !== process.pid && running(pid)) continue;
      const file = path.join(this.directory, name);
      try {
        const id = fs.readFileSync(file, 'utf8').trim();
        fs.rmSync(file, { force: true });
        if (id) ids.push(id);
      } catch { /* another worker took it */ }
    }
    return ids;
  }

  /** Records this process's member id (after each join). */
  record(memberId: string): void {
    if (memberId === this.recorded) return;
    try {
      fs.mkdirSync(this.directory, { recursive: true });
      const file = path.join(this.directory, `${process.pid}.member`);
      fs.writeFileSync(`${file}.tmp`, memberId);
      fs.renameSync(`${file}.tmp`, file);
      this.recorded = memberId;
    } catch (error) {
      this.log.warn({ err: error }, 'could not record the group member id: a restart here waits out the session of this member');
    }
  }

  /** This process left the group: nothing to remove after it. */
  forget(): void {
    try { fs.rmSync(path.join(this.directory, `${process.pid}.member`), { force: true }); } catch { /* gone */ }
    this.recorded = null;
  }
}

/** Whether a process with this pid runs (signal 0 checks without sending). */
function running(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
}
