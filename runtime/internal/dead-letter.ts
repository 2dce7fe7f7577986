/**
 * The dead-letter output: records that could not be decoded, records a user
 * function threw on, and records whose key is not a valid key — one JSON line
 * each with where it came from, why, and (for user errors) where in the
 * user's code, appended to a file. With --fail-fast the first one stops the
 * job instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeadLetter } from './connectors/types.ts';

/** A dead letter as the runtime writes it (the connectors' DeadLetter, with the user's location when there is one). */
export type DeadLetterRecord = DeadLetter;

/** Thrown by `write` under --fail-fast; the runner turns it into exit code 1. */
export class FailFastError extends Error {
  constructor(readonly record: DeadLetterRecord) {
    super(`${record.origin}:${record.position}: ${record.reason}${record.location ? ` (at ${record.location})` : ''}`);
    this.name = 'FailFastError';
  }
}

/** Where dead letters go: a file, and in stage workers also the `<pipeline>-dlq` topic. */
export interface DeadLetterOutput {
  /** How many were written. */
  readonly count: number;
  readonly file: string;
  /** Writes one; throws FailFastError instead under --fail-fast. */
  write(nodeId: number, record: DeadLetterRecord): void;
}

/** Appends dead letters to a JSON-lines file, created on the first one (kept open: a flood of bad records costs one write each). */
export class DeadLetterFile implements DeadLetterOutput {
  count = 0;
  private fd: number | null = null;
  constructor(readonly file: string, private readonly pipeline: string, readonly failFast: boolean) {}
  write(nodeId: number, record: DeadLetterRecord): void {
    this.count++;
    if (this.failFast) throw new FailFastError(record);
    if (this.fd === null) {
      fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
      this.fd = fs.openSync(this.file, 'a');
    }
    fs.writeSync(this.fd, JSON.stringify({ pipeline: this.pipeline, node: nodeId, ...record }) + '\n');
  }
}
