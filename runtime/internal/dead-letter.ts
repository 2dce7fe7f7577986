/**
 * The dead-letter output: undecodable records, one JSON line each with where
 * they came from and why, appended to a file. With --fail-fast the first one
 * stops the job instead.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { DeadLetter } from './connectors/types.ts';

/** Thrown by `deadLetter` under --fail-fast; the runner turns it into exit code 1. */
export class FailFastError extends Error {
  constructor(readonly record: DeadLetter) {
    super(`${record.origin}:${record.position}: ${record.reason}`);
  }
}

/** Appends dead letters to a JSON-lines file, created on the first one. */
export class DeadLetterFile {
  count = 0;
  constructor(readonly file: string, private readonly pipeline: string, private readonly failFast: boolean) {}
  write(nodeId: number, record: DeadLetter): void {
    this.count++;
    if (this.failFast) throw new FailFastError(record);
    if (this.count === 1) fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    fs.appendFileSync(this.file, JSON.stringify({ pipeline: this.pipeline, node: nodeId, ...record }) + '\n');
  }
}
