/**
 * What successive builds of one pipeline in one process reuse (`pipec build
 * --watch`): the last TypeScript program (its unchanged files are not parsed
 * or bound again), an evaluator process started after each build so the
 * next one finds it booted, and the bundler's esbuild context. Also the files
 * the last build read, which the watcher watches.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type ts from './typescript.ts';
import { Evaluator } from './phases/2-plan/evaluate.ts';
import { Bundler } from './phases/6-bundle/index.ts';

export class BuildSession {
  /** The previous build's program (reused by TypeScript where the files did not change). */
  program: ts.Program | undefined;
  /** The user's files the last build read: the program's and the module's. */
  inputs = new Set<string>();
  readonly bundler = new Bundler();
  private readonly dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-session-'));
  private evaluator: Evaluator | null = null;

  /** An evaluator for the next build: the one started after the last build, or a new one. */
  takeEvaluator(): Evaluator {
    const evaluator = this.evaluator ?? new Evaluator(this.dir);
    this.evaluator = null;
    return evaluator;
  }

  /** Starts the next build's evaluator now (after a build), so it has booted when a file changes. */
  prepareNext(): void {
    this.evaluator ??= new Evaluator(this.dir);
  }

  async dispose(): Promise<void> {
    await this.evaluator?.dispose();
    this.evaluator = null;
    await this.bundler.dispose();
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
