/** `print(prefix?)`: stdout in Flink's print format — `prefix:subtask> value` (subtask from 1) when parallel, `prefix> value` or just the value otherwise. */
import type { SinkConnector, SinkContext } from '../types.ts';

/** Formats a record the way the print sink and file.lines show it. */
export function recordText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}` : v instanceof Map ? Object.fromEntries(v) : v));
  return String(value);
}

/** One stdout buffer per process, shared by every print sink, so lines come out in the order records reached their sinks. */
const stdout = { chunks: [] as string[], size: 0 };

function drainStdout(): void {
  if (stdout.chunks.length === 0) return;
  process.stdout.write(stdout.chunks.join(''));
  stdout.chunks = [];
  stdout.size = 0;
}

/** Writes lines to the shared stdout buffer, flushed in 64 KiB chunks. */
export class PrintSink implements SinkConnector {
  private readonly prefixes: string[];
  constructor(ctx: SinkContext) {
    const prefix = ctx.options.prefix as string | undefined;
    this.prefixes = Array.from({ length: ctx.parallelism }, (_, i) =>
      ctx.parallelism > 1 ? `${prefix ? `${prefix}:` : ''}${i + 1}> ` : prefix ? `${prefix}> ` : '');
  }
  write(value: unknown, subtask: number): void {
    const line = this.prefixes[subtask] + recordText(value) + '\n';
    stdout.chunks.push(line);
    stdout.size += line.length;
    if (stdout.size >= 65536) drainStdout();
  }
  async flush(): Promise<void> {
    drainStdout();
    if (process.stdout.writableNeedDrain) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  async close(): Promise<void> { await this.flush(); }
}
