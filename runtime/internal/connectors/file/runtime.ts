/**
 * File connectors: `file.lines`, `file.csv`, `file.jsonl`. Sources take a path
 * or a glob (files read in sorted order) and skip a UTF-8 byte order mark; a
 * line that cannot be decoded goes to the dead-letter output with its file,
 * line number and reason. CSV cells are read as the declared type of their
 * field (SourceContext.columnTypes). Sinks buffer and write synchronously in
 * 64 KiB chunks to a temporary file next to the target, renamed over the
 * target when the job closes its sinks (end of input, SIGTERM, --fail-fast)
 * and deleted when it fails, so the target never holds a half-written output
 * (after a kill -9 the temporary file stays, named `<file>.<pid>-<n>.tmp`).
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { glob, isDynamicPattern } from 'tinyglobby';
import { recordText } from '../print/runtime.ts';
import { yieldToEventLoop, type SinkConnector, type SinkContext, type SourceConnector, type SourceContext } from '../types.ts';

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

/** `file.lines`: one string per line. */
export class FileLinesSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    for (const file of await resolveInputFiles(this.ctx.options.path)) {
      for await (const [line] of linesOf(file, this.ctx.signal)) emit(line, undefined);
    }
  }
}

/** `file.jsonl`: one JSON value per line; blank lines are skipped, bad JSON goes to the dead-letter output. */
export class FileJsonlSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    for (const file of await resolveInputFiles(this.ctx.options.path)) {
      for await (const [line, number] of linesOf(file, this.ctx.signal)) {
        if (line.trim() === '') continue;
        let value: unknown;
        try {
          value = JSON.parse(line);
        } catch (error) {
          this.ctx.deadLetter({ origin: file, position: number, reason: `invalid JSON: ${(error as Error).message}`, raw: line });
          continue;
        }
        emit(value, undefined);
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
export class FileCsvSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    const { columns, header, delimiter = ',' } = this.ctx.options as { columns?: string[]; header?: boolean; delimiter?: string };
    const useHeader = header ?? columns === undefined;
    const decode = this.ctx.columnTypes ? rowDecoder(this.ctx.columnTypes) : null;
    for (const file of await resolveInputFiles(this.ctx.options.path)) {
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
        let value: unknown = record;
        if (decode) {
          try {
            value = decode(record);
          } catch (error) {
            this.ctx.deadLetter({ origin: file, position: info.lines, reason: `invalid CSV: ${(error as Error).message}`, raw: raw.replace(/\r?\n?$/, '') });
            continue;
          }
        }
        emit(value, undefined);
        if ((++count & 8191) === 0) await yieldToEventLoop();
      }
    }
  }
}

/** Temporary files made by this process, numbered so two sinks of one process never share one. */
let temporaryFiles = 0;

/**
 * A synchronous, buffered file writer shared by every subtask of a sink in
 * one process. It writes `<file>.<pid>-<n>.tmp` in the target's folder (same
 * file system, so the rename is atomic), renames it over the target on close
 * and deletes it on abort.
 */
abstract class FileSink implements SinkConnector {
  private fd: number | null;
  private chunks: string[] = [];
  private size = 0;
  private readonly target: string;
  private readonly temporary: string;
  constructor(protected readonly ctx: SinkContext) {
    this.target = ctx.options.path as string;
    fs.mkdirSync(path.dirname(path.resolve(this.target)), { recursive: true });
    this.temporary = `${this.target}.${process.pid}-${++temporaryFiles}.tmp`;
    this.fd = fs.openSync(this.temporary, 'w');
  }
  protected abstract format(value: unknown): string;
  write(value: unknown): void {
    const text = this.format(value);
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 65536) this.drain();
  }
  private open(): number {
    if (this.fd === null) throw new Error(`the file sink of ${this.target} is already closed`);
    return this.fd;
  }
  protected drain(): void {
    if (this.size === 0) return;
    fs.writeSync(this.open(), this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }
  async flush(): Promise<void> {
    this.drain();
    fs.fsyncSync(this.open());
  }
  /** The job ended normally: the output replaces the target file. */
  async close(): Promise<void> {
    await this.flush();
    fs.closeSync(this.open());
    this.fd = null;
    fs.renameSync(this.temporary, this.target);
    syncFolder(path.dirname(path.resolve(this.target)));
  }
  /** The job stopped under --fail-fast: the output so far goes to `<file>.partial`; the target keeps what it had. */
  async keepPartial(): Promise<string> {
    await this.flush();
    fs.closeSync(this.open());
    this.fd = null;
    const partial = `${this.target}.partial`;
    fs.renameSync(this.temporary, partial);
    syncFolder(path.dirname(path.resolve(this.target)));
    return partial;
  }
  /** The job failed: the target keeps what it had, and the partial output is deleted. */
  async abort(): Promise<void> {
    if (this.fd === null) return;
    fs.closeSync(this.fd);
    this.fd = null;
    this.chunks = [];
    this.size = 0;
    fs.rmSync(this.temporary, { force: true });
  }
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
