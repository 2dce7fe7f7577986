/**
 * File connectors: `file.lines`, `file.csv`, `file.jsonl`. Sources take a path
 * or a glob (files read in sorted order) and skip a UTF-8 byte order mark; a
 * line that cannot be decoded goes to the dead-letter output with its file,
 * line number and reason. CSV cells are read as the declared type of their
 * field (SourceContext.columnTypes). Sinks buffer and write synchronously in
 * 64 KiB chunks. In a batch job they write a temporary file next to the
 * target, renamed over the target when the job closes its sinks (end of
 * input, SIGTERM) and deleted when it fails, so the target never holds a
 * half-written output (after a kill -9 the temporary file stays, named
 * `<file>.<pid>-<n>.tmp`). In a job that takes checkpoints they publish on
 * checkpoints instead, exactly-once (see FileSink).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { glob, isDynamicPattern } from 'tinyglobby';
import { recordText } from '../print/runtime.ts';
import { yieldToEventLoop, type SinkConnector, type SinkContext, type SourceConnector, type SourceContext, type SourceEmit } from '../types.ts';

/** The files a source reads: the path itself, or every match of a glob in sorted order. */
export async function resolveInputFiles(pattern: string): Promise<string[]> {
  if (!isDynamicPattern(pattern)) {
    if (!fs.existsSync(pattern)) throw new Error(`input file not found: ${pattern}`);
    return [pattern];
  }
  const files = (await glob(pattern, { absolute: false, onlyFiles: true })).sort();
  if (files.length === 0) throw new Error(`no input file matches ${pattern}`);
  return files;
}

const BYTE_ORDER_MARK = '\uFEFF';

/** Reads lines with 1-based line numbers (without a leading byte order mark), yielding to the event loop between chunks. */
async function* linesOf(file: string, signal: AbortSignal): AsyncGenerator<[string, number]> {
  const reader = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of reader) {
      if (signal.aborted) return;
      yield [number === 0 && line.startsWith(BYTE_ORDER_MARK) ? line.slice(1) : line, ++number];
    }
  } finally {
    reader.close();
  }
}

/**
 * Where a file source is, for checkpoints: the index of the file in its sorted
 * list and the last line of it that was read (emitted or dead-lettered). A
 * source restored from it skips the files before and those lines (input
 * files are taken to stay as they were).
 */
abstract class PositionedFileSource implements SourceConnector {
  protected position = { file: 0, line: 0 };
  constructor(protected readonly ctx: SourceContext) {}
  abstract run(emit: SourceEmit): Promise<void>;
  snapshotPosition(): { file: number; line: number } { return { ...this.position }; }
  restorePosition(position: unknown): void {
    const p = position as { file?: unknown; line?: unknown } | null;
    if (p && typeof p.file === 'number' && typeof p.line === 'number') this.position = { file: p.file, line: p.line };
  }
  /** The files to read, from the restored one on, each with the number of its lines already read. */
  protected async files(): Promise<Array<{ file: string; index: number; skip: number }>> {
    const all = await resolveInputFiles(this.ctx.options.path);
    const from = this.position.file;
    return all.map((file, index) => ({ file, index, skip: index === from ? this.position.line : 0 })).filter((f) => f.index >= from);
  }
  /** Marks a line of a file as read. */
  protected read(index: number, line: number): void { this.position = { file: index, line }; }
}

/** `file.lines`: one string per line. */
export class FileLinesSource extends PositionedFileSource {
  async run(emit: SourceEmit): Promise<void> {
    for (const { file, index, skip } of await this.files()) {
      for await (const [line, number] of linesOf(file, this.ctx.signal)) {
        if (number <= skip) continue;
        this.read(index, number);
        const backpressure = emit(line, undefined);
        if (backpressure) await backpressure;
      }
    }
  }
}

/** `file.jsonl`: one JSON value per line; blank lines are skipped, bad JSON goes to the dead-letter output. */
export class FileJsonlSource extends PositionedFileSource {
  async run(emit: SourceEmit): Promise<void> {
    for (const { file, index, skip } of await this.files()) {
      for await (const [line, number] of linesOf(file, this.ctx.signal)) {
        if (number <= skip) continue;
        this.read(index, number);
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          this.ctx.deadLetter({ origin: file, position: number, reason: `invalid JSON: ${(error as Error).message}`, raw: line });
          continue;
        }
        const backpressure = emit(value, undefined);
        if (backpressure) await backpressure;
      }
    }
  }
}

/** Turns one cell into a field value; throws with the reason when the text is not a value of the column's type. */
type CellReader = (text: string) => unknown;

/** A cell of a column whose type is not known: a number when the text looks like one (csv-parse's `cast: true` rule), else the text. */
function castLikeNumber(text: string): unknown {
  return Number(text) - parseFloat(text) + 1 >= 0 ? parseFloat(text) : text;
}

const cellReaders: Record<string, (text: string) => unknown> = {
  string: (text) => text,
  number: (text) => {
    const value = Number(text);
    if (Number.isNaN(value) && text.trim() !== 'NaN') throw new Error(`'${text}' is not a number`);
    return value;
  },
  boolean: (text) => {
    const lower = text.trim().toLowerCase();
    if (lower === 'true' || lower === '1') return true;
    if (lower === 'false' || lower === '0') return false;
    throw new Error(`'${text}' is not a boolean (true, false, 1 or 0)`);
  },
  bigint: (text) => {
    try { return BigInt(text.trim()); } catch { throw new Error(`'${text}' is not an integer`); }
  },
};

/** The reader of one column type ('number', 'number?', ...): an empty cell is undefined when the field is optional, an error otherwise. */
function cellReader(type: string): CellReader {
  const optional = type.endsWith('?');
  const kind = optional ? type.slice(0, -1) : type;
  const read = cellReaders[kind];
  if (!read) throw new Error(`internal: unknown CSV column type ${type}`);
  if (kind === 'string') return read;
  return (text) => {
    if (text.trim() === '') {
      if (optional) return undefined;
      throw new Error(`the cell is empty, and the record type declares a ${kind}`);
    }
    return read(text);
  };
}

/** Converts a parsed row (column → text) to the declared field types. */
function rowDecoder(columnTypes: Readonly<Record<string, string>>): (row: Record<string, string>) => Record<string, unknown> {
  const readers = new Map(Object.entries(columnTypes).map(([column, type]) => [column, cellReader(type)]));
  const other = readers.get('*') ?? castLikeNumber;
  return (row) => {
    const record: Record<string, unknown> = {};
    for (const column in row) {
      const text = row[column];
      const read = readers.get(column) ?? other;
      try {
        record[column] = read(text);
      } catch (error) {
        throw new Error(`column '${column}': ${(error as Error).message}`);
      }
    }
    return record;
  };
}

/**
 * `file.csv`: one object per row, keyed by `columns` or the header row. Cells
 * are read as the declared types of the record's fields (a `string` field
 * keeps `00123`); when the record type is not known, numeric-looking cells
 * become numbers. Malformed rows and cells go to the dead-letter output.
 */
export class FileCsvSource extends PositionedFileSource {
  async run(emit: SourceEmit): Promise<void> {
    const { columns, header, delimiter = ',' } = this.ctx.options as { columns?: string[]; header?: boolean; delimiter?: string };
    const useHeader = header ?? columns === undefined;
    const decode = this.ctx.columnTypes ? rowDecoder(this.ctx.columnTypes) : null;
    for (const { file, index, skip } of await this.files()) {
      const parser = fs.createReadStream(file).pipe(parseCsv({
        delimiter, columns: columns ? [...columns] : useHeader, from_line: columns && useHeader ? 2 : 1,
        bom: true, cast: decode === null, skip_empty_lines: true, trim: false, info: true, raw: true,
        skip_records_with_error: true,
        on_skip: (error: { message: string; lines?: number } | undefined, raw?: string) => {
          this.ctx.deadLetter({ origin: file, position: error?.lines ?? 0, reason: `invalid CSV: ${error?.message ?? 'malformed row'}`, raw: (raw ?? '').replace(/\r?\n?$/, '') });
        },
      }));
      let count = 0;
      for await (const { record, info, raw } of parser as AsyncIterable<{ record: Record<string, string>; info: { lines: number }; raw: string }>) {
        if (this.ctx.signal.aborted) break;
        if (info.lines <= skip) continue;
        this.read(index, info.lines);
        let value: unknown = record;
        if (decode) {
          try {
            value = decode(record);
          } catch (error) {
            this.ctx.deadLetter({ origin: file, position: info.lines, reason: `invalid CSV: ${(error as Error).message}`, raw: raw.replace(/\r?\n?$/, '') });
            continue;
          }
        }
        const backpressure = emit(value, undefined);
        if (backpressure) await backpressure;
        if ((++count & 8191) === 0) await yieldToEventLoop();
      }
    }
  }
}

/** Temporary files made by this process, numbered so two sinks of one process never share one. */
let temporaryFiles = 0;

/** What a streaming file sink's checkpoint holds: the target's length once published, and the in-progress bytes that make it up. */
interface FileSinkState { target: number; start: number; end: number }

/** In-progress bytes past which a completed checkpoint rewrites the in-progress file without them. */
const ROTATE_BYTES = 64 << 20;

/**
 * A synchronous, buffered file writer shared by every subtask of a sink in
 * one process, in one of two modes.
 *
 * - Batch (a job without checkpoints): it writes `<file>.<pid>-<n>.tmp` in
 *   the target's folder (same file system, so the rename is atomic), renames
 *   it over the target on close and deletes it on abort.
 * - Streaming (the job takes checkpoints: `initializeState` is called), as
 *   Flink's FileSink: records go to `<file>.inprogress`; a checkpoint's cut
 *   stages what was written (its offsets, in the checkpoint), and once the
 *   checkpoint is durable those bytes are appended to the target and fsynced.
 *   The target holds only the output of completed checkpoints. A restart
 *   repairs the target to the length its last checkpoint says (finishing an
 *   interrupted append from the in-progress file, or cutting off anything
 *   after) and discards the in-progress rest, whose records the job
 *   processes again: the target is exactly-once. A fresh start empties the
 *   target, as a batch job's output replaces it.
 */
abstract class FileSink implements SinkConnector {
  private fd: number | null = null;
  private chunks: string[] = [];
  private size = 0;
  private readonly target: string;
  private temporary: string | null = null;
  /** Streaming mode: the in-progress file, the bytes written to it, where the unpublished ones start, the target's length. */
  private streaming: { file: string; written: number; published: number; target: number } | null = null;
  private closed = false;
  constructor(protected readonly ctx: SinkContext) {
    this.target = ctx.options.path as string;
    fs.mkdirSync(path.dirname(path.resolve(this.target)), { recursive: true });
  }
  protected abstract format(value: unknown): string;
  write(value: unknown): void {
    const text = this.format(value);
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 65536) this.drain();
  }
  private open(): number {
    if (this.closed) throw new Error(`the file sink of ${this.target} is already closed`);
    if (this.fd === null) {
      if (this.streaming) {
        this.fd = fs.openSync(this.streaming.file, 'a');
      } else {
        this.temporary = `${this.target}.${process.pid}-${++temporaryFiles}.tmp`;
        this.fd = fs.openSync(this.temporary, 'w');
      }
    }
    return this.fd;
  }
  protected drain(): void {
    if (this.size === 0) return;
    const bytes = Buffer.from(this.chunks.join(''));
    fs.writeSync(this.open(), bytes);
    if (this.streaming) this.streaming.written += bytes.length;
    this.chunks = [];
    this.size = 0;
  }
  async flush(): Promise<void> {
    this.drain();
    if (this.fd !== null) fs.fsyncSync(this.fd);
  }

  initializeState(state: unknown): void {
    const file = `${this.target}.inprogress`;
    const targetLength = fs.existsSync(this.target) ? fs.statSync(this.target).size : -1;
    const saved = state as FileSinkState | undefined;
    let length = 0;
    if (!saved) {
      // A fresh start: the output replaces what the target had.
      fs.writeFileSync(this.target, '');
    } else {
      length = saved.target;
      const missing = saved.target - Math.max(0, targetLength);
      if (missing > saved.end - saved.start || targetLength < 0) {
        throw new Error(`${this.target} is shorter (${Math.max(0, targetLength)} bytes) than its last checkpoint can repair (${saved.target} bytes): was it changed or deleted? Delete the checkpoint folder to start over`);
      }
      if (missing > 0) {
        // The checkpoint's append was cut short by a crash: finish it from the in-progress file.
        const bytes = readRange(file, saved.end - missing, saved.end);
        const fd = fs.openSync(this.target, 'a');
        try { fs.writeSync(fd, bytes); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
        this.ctx.log.info({ file: this.target, bytes: missing }, 'finished publishing the last checkpoint\'s output');
      } else if (missing < 0) {
        fs.truncateSync(this.target, saved.target);
        this.ctx.log.warn({ file: this.target, bytes: -missing }, 'cut the file sink\'s target back to its last checkpoint');
      }
    }
    // What the in-progress file holds beyond the checkpoint is processed again.
    fs.writeFileSync(file, '');
    syncFolder(path.dirname(path.resolve(this.target)));
    this.streaming = { file, written: 0, published: 0, target: length };
  }

  snapshotState(): FileSinkState | undefined {
    if (!this.streaming || this.closed) return undefined;
    this.drain();
    const { published, written, target } = this.streaming;
    return { target: target + (written - published), start: published, end: written };
  }

  notifyCheckpointComplete(state: unknown): void {
    const s = this.streaming;
    const saved = state as FileSinkState | undefined;
    if (!s || !saved || saved.end <= s.published) return;
    if (this.fd !== null) fs.fsyncSync(this.fd);
    const bytes = readRange(s.file, saved.start, saved.end);
    const fd = fs.openSync(this.target, 'a');
    try { fs.writeSync(fd, bytes); fs.fsyncSync(fd); } finally { fs.closeSync(fd); }
    s.target = saved.target;
    s.published = saved.end;
    if (s.written === s.published || s.published > ROTATE_BYTES) this.rotate();
  }

  /** Drops the published head of the in-progress file (keeping what came after the cut). */
  private rotate(): void {
    const s = this.streaming!;
    const rest = s.written > s.published ? readRange(s.file, s.published, s.written) : Buffer.alloc(0);
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    fs.writeFileSync(s.file, rest);
    s.written = rest.length;
    s.published = 0;
  }

  /** The job ended normally: the output replaces the target file (batch); in streaming mode the last checkpoint published it. */
  async close(): Promise<void> {
    if (this.closed) return;
    await this.flush();
    // A batch job that wrote nothing still replaces the target, with an empty file.
    if (!this.streaming) this.open();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.closed = true;
    if (this.streaming) return;
    fs.renameSync(this.temporary!, this.target);
    syncFolder(path.dirname(path.resolve(this.target)));
  }
  /** The job stopped under --fail-fast: the output so far goes to `<file>.partial` (batch) or stays in `<file>.inprogress`; the target keeps what it had. */
  async keepPartial(): Promise<string> {
    await this.flush();
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.closed = true;
    if (this.streaming) return this.streaming.file;
    const partial = `${this.target}.partial`;
    if (this.temporary === null) fs.writeFileSync(partial, '');
    else fs.renameSync(this.temporary, partial);
    syncFolder(path.dirname(path.resolve(this.target)));
    return partial;
  }
  /** The job failed: the target keeps what it had; the partial output is deleted (batch) or left for the restart to discard. */
  async abort(): Promise<void> {
    if (this.fd !== null) fs.closeSync(this.fd);
    this.fd = null;
    this.closed = true;
    this.chunks = [];
    this.size = 0;
    if (this.temporary !== null && !this.streaming) fs.rmSync(this.temporary, { force: true });
  }
}

/** Bytes [from, to) of a file. */
function readRange(file: string, from: number, to: number): Buffer {
  const bytes = Buffer.alloc(to - from);
  const fd = fs.openSync(file, 'r');
  try {
    let at = 0;
    while (at < bytes.length) {
      const n = fs.readSync(fd, bytes, at, bytes.length - at, from + at);
      if (n === 0) throw new Error(`${file} ends before byte ${to}: the in-progress output of a checkpoint is missing`);
      at += n;
    }
  } finally {
    fs.closeSync(fd);
  }
  return bytes;
}

/** Makes a rename in a folder durable (best effort: some platforms cannot fsync a folder). */
function syncFolder(folder: string): void {
  let fd: number | undefined;
  try {
    fd = fs.openSync(folder, 'r');
    fs.fsyncSync(fd);
  } catch {
    // not supported here; the rename itself is still atomic
  } finally {
    if (fd !== undefined) fs.closeSync(fd);
  }
}

/** `file.lines` as a sink: one line per record (strings as they are, objects as JSON). */
export class FileLinesSink extends FileSink {
  protected format(value: unknown): string { return recordText(value) + '\n'; }
}

/** `file.jsonl` as a sink: one JSON value per line. */
export class FileJsonlSink extends FileSink {
  protected format(value: unknown): string { return JSON.stringify(value) + '\n'; }
}

/** `file.csv` as a sink: the `columns` of each record (all its fields when unset), optionally after a header line. */
export class FileCsvSink extends FileSink {
  private wroteHeader = false;
  protected format(value: unknown): string {
    const record = value as Record<string, unknown>;
    const columns = (this.ctx.options.columns as string[] | undefined) ?? Object.keys(record);
    const delimiter = (this.ctx.options.delimiter as string | undefined) ?? ',';
    let text = '';
    if (this.ctx.options.header && !this.wroteHeader) {
      text += stringifyCsv([columns], { delimiter });
      this.wroteHeader = true;
    }
    return text + stringifyCsv([columns.map((c) => record[c])], { delimiter });
  }
}
