/**
 * Phase 2, plan: bundles the pipeline module in memory, evaluates it in a
 * child process with a time limit (evaluate.ts), where its build function runs
 * against the DSL builder with call-site capture on, and turns the graph into
 * a LogicalPlan whose nodes know where in the user's file they were created and
 * carry their uid (the stable id their state is kept under, uids.ts).
 *
 * In: LoadedProgram. Out: LogicalPlan, or diagnostics (no default export, a
 * throw, the time limit, a timer or connection left open).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import * as esbuild from 'esbuild';
import { parseDuration } from '../../../runtime/api/duration.ts';
import { DEFAULT_CHECKPOINT_INTERVAL } from '../../../runtime/internal/manifest.ts';
import { diagnostics, NO_LOCATION, type Diagnostic } from '../../diagnostics/index.ts';
import { locationAt } from '../../diagnostics/location.ts';
import { hostLoader, pipecResolver, REQUIRE_BANNER } from '../../esbuild/plugins.ts';
import { displayPath, pipecRuntimeDir, type Host } from '../../host.ts';
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { LoadedProgram } from '../1-load/index.ts';
import { Evaluator, planTimeLimit } from './evaluate.ts';
import { evaluationDiagnostics, type Locate } from './evaluation-diagnostics.ts';
import { FrameMapper, locationOfConstruct } from './positions.ts';

/** The result of planning; `inputs`: the user's files the module loaded (absolute), which a watch session watches. */
export interface PlanResult { plan: LogicalPlan | null; diagnostics: Diagnostic[]; inputs?: string[] }

/**
 * A plan's first half, which needs no type-checked program: the pipeline
 * module bundled (esbuild) and an evaluator process started. Started before
 * phase 1, both run while the type checker works (esbuild in its own
 * process, the evaluator booting Node), so a build waits for neither.
 */
export interface PlanStart {
  readonly host: Host;
  readonly entryFile: string;
  readonly tmpDir: string;
  readonly evaluator: Evaluator;
  readonly bundled: Promise<esbuild.BuildResult & { outputFiles: esbuild.OutputFile[]; metafile: esbuild.Metafile }>;
}

/** Bundles the pipeline module and starts an evaluator for it (or takes one started earlier: a watch session's). */
export function startPlan(host: Host, entryFile: string, started?: Evaluator): PlanStart {
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-plan-'));
  const evaluator = started ?? new Evaluator(tmpDir);
  const bundled = esbuild.build({
    entryPoints: [entryFile], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20', metafile: true,
    outfile: path.join(tmpDir, 'pipeline.mjs'), sourcemap: 'external', absWorkingDir: host.root, logLevel: 'silent',
    banner: { js: REQUIRE_BANNER }, plugins: [pipecResolver(), hostLoader(host)],
  });
  // Awaited in plan(); a start that is abandoned (type errors) must not report an unhandled rejection.
  bundled.catch(() => undefined);
  return { host, entryFile, tmpDir, evaluator, bundled };
}

/** Stops a started plan that will not be finished (phase 1 found errors). */
export async function abandonPlan(start: PlanStart): Promise<void> {
  await start.evaluator.dispose();
  fs.rmSync(start.tmpDir, { recursive: true, force: true });
}

/** Evaluates the pipeline module and builds its LogicalPlan (from a start made for the same file, or a new one). */
export async function plan(loaded: LoadedProgram, start: PlanStart = startPlan(loaded.host, loaded.entryFile)): Promise<PlanResult> {
  const { host, entryFile } = loaded;
  const { tmpDir, evaluator } = start;
  const timeLimitMs = planTimeLimit();
  if (timeLimitMs === null) { await abandonPlan(start); return { plan: null, diagnostics: [diagnostics.invalidPlanTimeout(NO_LOCATION, { value: process.env.PIPEC_PLAN_TIMEOUT ?? '' })] }; }
  const bundleFile = path.join(tmpDir, 'pipeline.mjs');
  let evaluating = false;
  try {
    const result = await start.bundled;
    const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
    fs.writeFileSync(bundleFile, code);
    const mapper = new FrameMapper(bundleFile, map, host);
    const fileStart = { ...locationAt(loaded, { file: displayPath(host, entryFile), line: 1, column: 1 }), length: 0 };
    const locate: Locate = (frames, widen) => {
      const position = mapper.userPosition(frames);
      return !position ? null : widen ? locationOfConstruct(loaded, position) : locationAt(loaded, position);
    };

    evaluating = true;
    const evaluation = await evaluator.evaluate(bundleFile, timeLimitMs);
    const problems = evaluationDiagnostics(evaluation, locate, fileStart);
    if (evaluation.kind !== 'planned' || problems.length > 0) return { plan: null, diagnostics: problems };

    const nodes = evaluation.nodes.map(({ node, frames }) => ({ ...node, site: frames ? mapper.userPosition(frames) : null }));
    const sources = nodes.filter((n) => n.kind === 'source');
    const requested = evaluation.options.mode ?? 'auto';
    const mode = requested === 'auto' ? (sources.every((s) => s.kind === 'source' && s.spec.bounded) ? 'batch' : 'streaming') : requested;
    const checkpoint = evaluation.options.checkpoint;
    return {
      plan: {
        pipeline: evaluation.name,
        file: displayPath(host, entryFile),
        parallelism: evaluation.options.parallelism ?? 1,
        mode,
        checkpoint: { interval: checkpoint ? parseDuration(checkpoint.interval) : DEFAULT_CHECKPOINT_INTERVAL, store: checkpoint?.store ?? null },
        guarantee: evaluation.options.guarantee ?? 'exactly-once',
        nodes,
      },
      diagnostics: [],
      inputs: Object.keys(result.metafile.inputs).map((f) => path.resolve(host.root, f)).filter((f) => !f.includes(`${path.sep}node_modules${path.sep}`) && !f.startsWith(pipecRuntimeDir + path.sep)),
    };
  } catch (error) {
    if (error && typeof error === 'object' && 'errors' in error) {
      const first = (error as esbuild.BuildFailure).errors[0];
      const message = first?.text ?? String(error);
      const location = first?.location ? { file: first.location.file, line: first.location.line, column: first.location.column + 1, length: first.location.length, lineText: first.location.lineText } : NO_LOCATION;
      return { plan: null, diagnostics: [diagnostics.buildFunctionThrew(location, { error: message })] };
    }
    throw error;
  } finally {
    if (!evaluating) await evaluator.dispose();
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}
