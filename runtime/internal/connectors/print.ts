/** `print(prefix?)`: stdout in Flink's print format — `prefix:subtask> value` (subtask from 1) when parallel, `prefix> value` or just the value otherwise. */
import type { SinkConnector, SinkContext } from './types.ts';

/** Formats a record the way the print sink and file.lines show it. */
export function recordText(value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'bigint') return `${value}`;
  if (typeof value === 'object' && value !== null) return JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? `${v}` : v instanceof Map ? Object.fromEntries(v) : v));
  return String(value);
}

/** Buffers lines and writes them to stdout in chunks. */
export class PrintSink implements SinkConnector {
  private buffer: string[] = [];
  private size = 0;
  private readonly prefixes: string[];
  constructor(ctx: SinkContext) {
    const prefix = ctx.options.prefix as string | undefined;
    this.prefixes = Array.from({ length: ctx.parallelism }, (_, i) =>
      ctx.parallelism > 1 ? `${prefix ? `${prefix}:` : ''}${i + 1}> ` : prefix ? `${prefix}> ` : '');
  }
  write(value: unknown, subtask: number): void {
    const line = this.prefixes[subtask] + recordText(value) + '\n';
    this.buffer.push(line);
    this.size += line.length;
    if (this.size >= 65536) this.drain();
  }
  private drain(): void {
    if (this.buffer.length === 0) return;
    process.stdout.write(this.buffer.join(''));
    this.buffer = [];
    this.size = 0;
  }
  async flush(): Promise<void> {
    this.drain();
    if (process.stdout.writableNeedDrain) await new Promise((resolve) => process.stdout.once('drain', resolve));
  }
  async close(): Promise<void> { await this.flush(); }
}
