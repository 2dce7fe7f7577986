/** `file.lines / file.csv / file.jsonl`: the DSL side of the file connectors. */
import { descriptor, type Sink, type Source } from '../../../api/connectors.ts';

/** Options shared by the file connectors. */
export interface FileOptions {
  /** Source only: where undecodable lines go (default: `<pipeline>.dead-letter.jsonl` next to the job's output). */
  deadLetter?: string;
}
/** Options of `file.csv`. */
export interface CsvOptions<T> extends FileOptions {
  /** Column names in order: the fields a sink writes, and the names a source gives the fields it reads (otherwise the header row's). */
  columns?: readonly (keyof T & string)[];
  /** Source: whether the first line is a header (default: true unless `columns` is given). Sink: write a header line (default false). */
  header?: boolean;
  delimiter?: string;
}

/** A file connector is both a bounded source (a path or a glob) and a sink (a path). */
export type FileConnector<T> = Source<T> & Sink<T>;

/** Text, CSV and JSON-lines files. */
export const file = {
  /** One record per line of text. */
  lines(path: string, options: FileOptions = {}): FileConnector<string> {
    return descriptor<FileConnector<string>>('file.lines', { path, ...options }, { source: { bounded: true }, sink: true });
  },
  /** One record per CSV row, as an object keyed by column name. */
  csv<T = Record<string, string>>(path: string, options: CsvOptions<T> = {}): FileConnector<T> {
    return descriptor<FileConnector<T>>('file.csv', { path, ...options }, { source: { bounded: true }, sink: true });
  },
  /** One JSON value per line. */
  jsonl<T = unknown>(path: string, options: FileOptions = {}): FileConnector<T> {
    return descriptor<FileConnector<T>>('file.jsonl', { path, ...options }, { source: { bounded: true }, sink: true });
  },
};
