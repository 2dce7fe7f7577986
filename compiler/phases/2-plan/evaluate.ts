/**
 * Evaluates the bundled pipeline module in a child process (evaluator.ts,
 * supervisor.ts) with a time limit, so that user code that loops, leaves a
 * timer or a connection open, runs out of memory or calls process.exit()
 * stops the build with a diagnostic instead of hanging or ending the compiler.
 *
 * In: the bundle file. Out: an Evaluation (protocol.ts).
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import * as esbuild from 'esbuild';
import { parseDuration, type Duration } from '../../../runtime/api/duration.ts';
import type { EvaluateRequest, Evaluation } from './protocol.ts';

/** How long the pipeline module may take to load and run its build function, unless PIPEC_PLAN_TIMEOUT says otherwise. */
export const DEFAULT_TIME_LIMIT_MS = 10_000;
/** How much longer than the limit to wait for the supervisor's report before stopping the evaluator anyway. */
const SUPERVISOR_GRACE_MS = 2_000;
/** How much of the evaluator's stderr to keep (it is shown after the evaluation, or explains a crash). */
const STDERR_LIMIT = 64 * 1024;

/** The time limit from PIPEC_PLAN_TIMEOUT (milliseconds, or a Duration such as '30s'), the default when unset, or null when it is not a duration. */
export function planTimeLimit(env: NodeJS.ProcessEnv = process.env): number | null {
  const value = env.PIPEC_PLAN_TIMEOUT?.trim();
  if (!value) return DEFAULT_TIME_LIMIT_MS;
  try {
    const ms = parseDuration(/^\d+$/.test(value) ? Number(value) : (value as Duration));
    return ms > 0 ? ms : null;
  } catch {
    return null;
  }
}

let evaluatorCode: Promise<string> | undefined;

/** The evaluator bundled into one ESM file, built once per process (the compiler may run from .ts sources, which plain node cannot load). */
function bundledEvaluator(): Promise<string> {
  const here = fileURLToPath(import.meta.url);
  const entry = path.join(path.dirname(here), `evaluator${path.extname(here)}`);
  evaluatorCode ??= esbuild.build({ entryPoints: [entry], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', logLevel: 'silent' })
    .then((result) => result.outputFiles[0].text);
  return evaluatorCode;
}

/** Why a process that did not answer ended, from its exit and the end of its stderr. */
function stopReason(code: number | null, signal: NodeJS.Signals | null, stderr: string): string {
  if (/heap out of memory|invalid size error|Invalid array length|Invalid typed array length/i.test(stderr)) return 'ran out of memory';
  if (signal) return `was ended by ${signal}`;
  return `ended the process (exit code ${code}: process.exit() in the pipeline file, or a top-level await that never settles)`;
}

/** A started evaluator process, waiting for the bundle to evaluate. Start it early: starting node takes a moment, which can overlap bundling. */
export class Evaluator {
  private readonly child: Promise<ChildProcess>;

  constructor(workDir: string) {
    // execArgv: [] keeps the compiler's own loaders (tsx in development) out of the user's evaluation.
    const start = (file: string) => fork(file, [], { execArgv: [], stdio: ['ignore', 'inherit', 'pipe', 'ipc'], serialization: 'advanced' });
    // The published compiler (lib/, JavaScript) forks its evaluator as it is, at once; from .ts sources it is bundled first.
    const here = fileURLToPath(import.meta.url);
    this.child = here.endsWith('.js')
      ? Promise.resolve(start(path.join(path.dirname(here), 'evaluator.js')))
      : bundledEvaluator().then((code) => {
        const file = path.join(workDir, 'evaluator.mjs');
        fs.writeFileSync(file, code);
        return start(file);
      });
  }

  /** Evaluates `bundleFile` and stops the process. */
  async evaluate(bundleFile: string, timeLimitMs: number): Promise<Evaluation> {
    const child = await this.child;
    let stderr = '';
    let timer: NodeJS.Timeout | undefined;
    try {
      return await new Promise<Evaluation>((resolve) => {
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => { stderr = (stderr + chunk).slice(-STDERR_LIMIT); });
        child.on('message', (message: Evaluation) => resolve(message));
        child.on('error', (error) => resolve({ kind: 'stopped', reason: `could not be started (${error.message})` }));
        // 'close', not 'exit': the last of stderr (an out-of-memory report) has been read by then.
        child.on('close', (code, signal) => resolve({ kind: 'stopped', reason: stopReason(code, signal, stderr) }));
        timer = setTimeout(() => resolve({ kind: 'timed-out', stage: 'load', limitMs: timeLimitMs, frames: [] }), timeLimitMs + SUPERVISOR_GRACE_MS);
        child.send({ bundleFile, timeLimitMs } satisfies EvaluateRequest);
      });
    } finally {
      clearTimeout(timer);
      child.kill('SIGKILL');
      if (child.exitCode === null && child.signalCode === null) await new Promise((resolve) => child.once('exit', resolve));
      if (stderr && !/FATAL ERROR|Fatal error/.test(stderr)) process.stderr.write(stderr);
    }
  }

  /** Stops the process without evaluating anything (bundling failed). */
  async dispose(): Promise<void> {
    const child = await this.child.catch(() => null);
    child?.kill('SIGKILL');
  }
}
