/**
 * File connectors: `file.lines`, `file.csv`, `file.jsonl`. Sources take a path
 * or a glob (files read in sorted order); a line that cannot be decoded goes
 * to the dead-letter output with its file, line number and reason. Sinks
 * buffer and write synchronously in 64 KiB chunks.
 */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';
import { parse as parseCsv } from 'csv-parse';
import { stringify as stringifyCsv } from 'csv-stringify/sync';
import { glob, isDynamicPattern } from 'tinyglobby';
import { recordText } from './print.ts';
import { yieldToEventLoop, type SinkConnector, type SinkContext, type SourceConnector, type SourceContext } from './types.ts';

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

/** Reads lines with 1-based line numbers, yielding to the event loop between chunks. */
async function* linesOf(file: string, signal: AbortSignal): AsyncGenerator<[string, number]> {
  const reader = readline.createInterface({ input: fs.createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  let number = 0;
  try {
    for await (const line of reader) {
      if (signal.aborted) return;
      yield [line, ++number];
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

/** `file.csv`: one object per row, keyed by `columns` or the header row; numbers are parsed; malformed rows go to the dead-letter output. */
export class FileCsvSource implements SourceConnector {
  constructor(private readonly ctx: SourceContext) {}
  async run(emit: (value: unknown, timestamp: number | undefined) => void): Promise<void> {
    const { columns, header, delimiter = ',' } = this.ctx.options as { columns?: string[]; header?: boolean; delimiter?: string };
    const useHeader = header ?? columns === undefined;
    for (const file of await resolveInputFiles(this.ctx.options.path)) {
      const parser = fs.createReadStream(file).pipe(parseCsv({
        delimiter, columns: columns ? [...columns] : useHeader, from_line: columns && useHeader ? 2 : 1,
        cast: true, skip_empty_lines: true, trim: false, info: true, raw: true,
        skip_records_with_error: true,
        on_skip: (error: { message: string; lines?: number } | undefined, raw?: string) => {
          this.ctx.deadLetter({ origin: file, position: error?.lines ?? 0, reason: `invalid CSV: ${error?.message ?? 'malformed row'}`, raw: (raw ?? '').replace(/\r?\n$/, '') });
        },
      }));
      let count = 0;
      for await (const { record } of parser as AsyncIterable<{ record: unknown }>) {
        if (this.ctx.signal.aborted) break;
        emit(record, undefined);
        if ((++count & 8191) === 0) await yieldToEventLoop();
      }
    }
  }
}

/** A synchronous, buffered file writer shared by every subtask of a sink in one process. */
abstract class FileSink implements SinkConnector {
  private fd: number;
  private chunks: string[] = [];
  private size = 0;
  constructor(protected readonly ctx: SinkContext) {
    const file = ctx.options.path as string;
    fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
    this.fd = fs.openSync(file, 'w');
  }
  protected abstract format(value: unknown): string;
  write(value: unknown): void {
    const text = this.format(value);
    this.chunks.push(text);
    this.size += text.length;
    if (this.size >= 65536) this.drain();
  }
  protected drain(): void {
    if (this.size === 0) return;
    fs.writeSync(this.fd, this.chunks.join(''));
    this.chunks = [];
    this.size = 0;
  }
  async flush(): Promise<void> {
    this.drain();
    fs.fsyncSync(this.fd);
  }
  async close(): Promise<void> {
    await this.flush();
    fs.closeSync(this.fd);
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
