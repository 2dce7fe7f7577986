/**
 * The differential runner: writes a generated program to disk, runs it
 * through the reference interpreter and through pipec — in process
 * (pipec/testing), as `local.mjs`, and as stage workers on a Kafka broker —
 * compares every sink's output as a multiset, and shrinks a failing program
 * to a small one that fails the same way.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from 'node:worker_threads';
import { fileURLToPath } from 'node:url';
import { build, nodeHost } from '../../compiler/index.ts';
import { hasRolling, renderProgram, shapesUsed, shrinkCandidates, sourceItems, type Program } from './program.ts';
import { loadReference, runReference } from './reference/interpreter.ts';
import type { InProcessResult, SideResult } from './in-process.ts';
import { copyRecord, jsonText } from './values.ts';

const here = path.dirname(fileURLToPath(import.meta.url));
const repoRoot = path.resolve(here, '../..');

/** Where pipec is run. */
export type Target = 'harness' | 'local' | 'workers';

/** One sink whose outputs differ. */
export interface SinkDiff { sink: number; expected: string[]; actual: string[] }

/** Why a program failed. `generator` means the program itself is wrong (a bug in this test, not in pipec). */
export interface Failure {
  target: Target;
  kind: 'generator' | 'build' | 'crash' | 'mismatch' | 'timeout';
  message: string;
  diffs: SinkDiff[];
}

/** Settings of a run. */
export interface RunnerOptions {
  /** A folder for program files, builds and temporary output (removed by close()). */
  workDir: string;
  /** Time limit for one in-process run (ms). */
  timeoutMs?: number;
  /** Kafka brokers for stage-worker runs (or later, useBrokers). */
  brokers?: string;
}

/** Runs programs; owns a worker thread for the in-process runs. */
export class DifferentialRunner {
  private worker: Worker | null = null;
  private nextId = 0;
  private fileCount = 0;
  private brokers: string | undefined;
  constructor(readonly options: RunnerOptions) {
    fs.mkdirSync(options.workDir, { recursive: true });
    this.brokers = options.brokers;
  }

  /** Sets the Kafka brokers stage-worker runs use. */
  useBrokers(brokers: string): void { this.brokers = brokers; }

  /** Writes a program's source to a fresh file (the harness caches by path). */
  write(program: Program, sinks: 'print' | 'kafka' = 'print'): string {
    const file = path.join(this.options.workDir, `p${program.seed}-${this.fileCount++}.ts`);
    fs.writeFileSync(file, renderProgram(program, sinks));
    return file;
  }

  /** Runs a program on one target; null when every sink agrees with the reference. */
  async check(program: Program, target: Target): Promise<Failure | null> {
    if (target === 'harness') return this.checkHarness(program);
    if (target === 'local') return this.checkLocal(program);
    return this.checkWorkers(program);
  }

  private async checkHarness(program: Program): Promise<Failure | null> {
    const file = this.write(program);
    let result: InProcessResult;
    try {
      result = await this.inWorker(file, sourceItems(program));
    } catch (error) {
      return { target: 'harness', kind: 'timeout', message: (error as Error).message, diffs: [] };
    }
    if (!result.reference.ok) return { target: 'harness', kind: 'generator', message: `the reference failed: ${result.reference.message}`, diffs: [] };
    if (!result.pipec.ok) return { target: 'harness', kind: classify(result.pipec), message: result.pipec.message, diffs: [] };
    return compare('harness', result.reference.sinks, result.pipec.sinks);
  }

  private async checkLocal(program: Program): Promise<Failure | null> {
    const file = this.write(program);
    const expected = await this.referenceTexts(file, program);
    if ('failure' in expected) return { ...expected.failure, target: 'local' };
    const built = await this.build(file, 'local');
    if ('failure' in built) return built.failure;
    const run = spawnSync(process.execPath, [path.join(built.outDir, 'local.mjs')], { cwd: built.outDir, encoding: 'utf8', timeout: this.options.timeoutMs ?? 60_000, env: { ...process.env, PIPEC_LOG_LEVEL: 'warn' } });
    if (run.error) return { target: 'local', kind: 'timeout', message: String(run.error), diffs: [] };
    if (run.status !== 0) return { target: 'local', kind: 'crash', message: `local.mjs exited with ${run.status}:\n${run.stderr.slice(-2000)}`, diffs: [] };
    return compare('local', expected.sinks, parsePrinted(run.stdout, expected.sinks.length));
  }

  private async checkWorkers(program: Program): Promise<Failure | null> {
    const brokers = this.brokers;
    if (!brokers) throw new Error('stage-worker runs need a Kafka broker (PIPEC_KAFKA_BROKERS)');
    // Workers over Kafka never see the end of their input: only streaming programs have a defined output there.
    if (program.mode !== 'streaming' && hasRolling(program)) throw new Error('stage-worker runs need streaming programs');
    const file = this.write(program, 'kafka');
    const expected = await this.referenceTexts(file, program);
    if ('failure' in expected) return { ...expected.failure, target: 'workers' };
    const run = `dt${program.seed}x${Date.now().toString(36)}`;
    const env = { DIFF_RUN: run, PIPEC_TOPIC_PREFIX: `${run}-`, PIPEC_KAFKA_BROKERS: brokers, PIPEC_LOG_LEVEL: 'warn' };
    const built = await this.build(file, 'workers', env);
    if ('failure' in built) return built.failure;
    const { runWorkers } = await import('./workers.ts');
    const outcome = await runWorkers(built.outDir, env, run, expected.sinks.map((s) => s.length), this.options.timeoutMs ?? 90_000);
    if ('error' in outcome) return { target: 'workers', kind: 'crash', message: outcome.error, diffs: [] };
    return compare('workers', expected.sinks, outcome.sinks);
  }

  private async referenceTexts(file: string, program: Program): Promise<{ sinks: string[][] } | { failure: Failure }> {
    try {
      const definition = await loadReference(file, this.options.workDir);
      return { sinks: runReference(definition, sourceItems(program).map((l) => l.map(copyRecord))).map((s) => s.map(jsonText)) };
    } catch (error) {
      return { failure: { target: 'local', kind: 'generator', message: `the reference failed: ${(error as Error).stack}`, diffs: [] } };
    }
  }

  private async build(file: string, target: Target, env: Record<string, string> = {}): Promise<{ outDir: string } | { failure: Failure }> {
    const saved = { ...process.env };
    Object.assign(process.env, env);
    try {
      const result = await build(nodeHost(repoRoot), file, path.join(this.options.workDir, `dist-${this.fileCount++}`));
      const errors = result.diagnostics.filter((d) => d.category === 'error');
      if (errors.length || !result.outDir) {
        const message = errors.map((d) => `${d.code} ${d.message}`).join('\n');
        return { failure: { target, kind: errors.some((d) => d.code.startsWith('TS')) ? 'generator' : 'build', message, diffs: [] } };
      }
      return { outDir: result.outDir };
    } catch (error) {
      return { failure: { target, kind: 'crash', message: `the build threw: ${(error as Error).stack}`, diffs: [] } };
    } finally {
      for (const key of Object.keys(env)) { if (key in saved) process.env[key] = saved[key]; else delete process.env[key]; }
    }
  }

  private inWorker(file: string, items: unknown[][]): Promise<InProcessResult> {
    if (!this.worker) {
      this.worker = new Worker(path.join(here, 'in-process-worker.mjs'), {
        workerData: { workDir: this.options.workDir },
        // pipec/testing makes temporary folders per job: keep them inside the work folder.
        env: { ...process.env, TMPDIR: this.options.workDir },
        stdout: true,
        stderr: true,
      });
      this.worker.unref();
    }
    const worker = this.worker;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        cleanup();
        void worker.terminate();
        if (this.worker === worker) this.worker = null;
        reject(new Error(`the in-process run did not finish in ${this.options.timeoutMs ?? 60_000} ms (an endless loop?)`));
      }, this.options.timeoutMs ?? 60_000);
      const onMessage = (message: { id: number; result: InProcessResult }) => { if (message.id === id) { cleanup(); resolve(message.result); } };
      const onError = (error: Error) => { cleanup(); if (this.worker === worker) this.worker = null; reject(error); };
      const cleanup = () => { clearTimeout(timer); worker.off('message', onMessage); worker.off('error', onError); };
      worker.on('message', onMessage);
      worker.on('error', onError);
      worker.postMessage({ id, file, items });
    });
  }

  /** Shrinks a failing program: keeps any smaller variant that fails the same way, within a budget. */
  async shrink(program: Program, failure: Failure, budget: { attempts: number; ms: number }): Promise<{ program: Program; failure: Failure; attempts: number }> {
    const deadline = Date.now() + budget.ms;
    let attempts = 0;
    let current = { program, failure };
    let improved = true;
    while (improved && attempts < budget.attempts && Date.now() < deadline) {
      improved = false;
      for (const candidate of shrinkCandidates(current.program)) {
        if (attempts >= budget.attempts || Date.now() >= deadline) break;
        attempts++;
        const result = await this.check(candidate, failure.target);
        if (result && sameFailure(result, failure)) { current = { program: candidate, failure: result }; improved = true; break; }
      }
    }
    return { ...current, attempts };
  }

  /** Stops the worker thread and removes the work folder. */
  async close(): Promise<void> {
    await this.worker?.terminate();
    this.worker = null;
    fs.rmSync(this.options.workDir, { recursive: true, force: true });
  }
}

function classify(result: Extract<SideResult, { ok: false }>): Failure['kind'] {
  // A TypeScript error in the program is this generator's fault; pipec's own diagnostics and crashes are pipec's.
  if (result.kind === 'build' && /error TS\d+/.test(result.message)) return 'generator';
  return result.kind;
}

function compare(target: Target, expected: string[][], actual: string[][]): Failure | null {
  const diffs: SinkDiff[] = [];
  for (let i = 0; i < Math.max(expected.length, actual.length); i++) {
    const e = [...(expected[i] ?? [])].sort();
    const a = [...(actual[i] ?? [])].sort();
    if (e.length !== a.length || e.some((x, j) => x !== a[j])) diffs.push({ sink: i, expected: expected[i] ?? [], actual: actual[i] ?? [] });
  }
  return diffs.length ? { target, kind: 'mismatch', message: `${diffs.length} sink(s) differ`, diffs } : null;
}

/** Lines `sinkN> text` (or `sinkN:subtask> text`) printed by local.mjs, per sink. */
function parsePrinted(stdout: string, sinkCount: number): string[][] {
  const sinks: string[][] = Array.from({ length: sinkCount }, () => []);
  for (const line of stdout.split('\n')) {
    const match = /^sink(\d+)(?::\d+)?> (.*)$/.exec(line);
    if (match) (sinks[Number(match[1])] ??= []).push(match[2]);
  }
  return sinks;
}

function sameFailure(a: Failure, b: Failure): boolean {
  if (a.target !== b.target || a.kind !== b.kind) return false;
  if (a.kind === 'mismatch') return true;
  const head = (f: Failure) => f.message.split('\n')[0].replace(/\d+/g, 'N').replace(/'[^']*'/g, "'…'");
  return head(a) === head(b);
}

/** A readable report of a failure: seed, target, shapes, the program and each differing sink. */
export function describeFailure(program: Program, failure: Failure, note = ''): string {
  const lines = [
    `seed ${program.seed} — ${failure.target}: ${failure.kind}${note ? ` (${note})` : ''}`,
    `shapes: ${shapesUsed(program).join(', ') || 'none'}`,
    '--- program ---',
    renderProgram(program).trimEnd(),
    '---',
  ];
  if (failure.kind !== 'mismatch') lines.push(failure.message.split('\n').slice(0, 12).join('\n'));
  for (const diff of failure.diffs) {
    const e = [...diff.expected].sort(), a = [...diff.actual].sort();
    lines.push(`sink${diff.sink}: expected (reference, Flink semantics) ${e.length} record(s):`, ...e.map((x) => `  ${x}`));
    lines.push(`sink${diff.sink}: actual (pipec ${failure.target}) ${a.length} record(s):`, ...a.map((x) => `  ${x}`));
  }
  return lines.join('\n');
}
