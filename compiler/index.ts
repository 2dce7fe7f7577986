/**
 * pipec's compiler: load & check → plan → analyze → optimize → generate →
 * bundle. Each phase lives in phases/<n>-<name>/ with one entry function and
 * hands a typed, JSON-serializable result (compiler/ir/) to the next.
 */
import path from 'node:path';
import { hasErrors, type Diagnostic } from './diagnostics/index.ts';
import type { Host } from './host.ts';
import type { BuildSession } from './session.ts';
import type { Analysis } from './ir/analysis.ts';
import type { EmittedPipeline } from './ir/emitted.ts';
import type { LogicalPlan } from './ir/logical-plan.ts';
import type { PhysicalPlan } from './ir/physical-plan.ts';
import { loadAndCheck } from './phases/1-load/index.ts';
import { abandonPlan, plan, startPlan } from './phases/2-plan/index.ts';
import { analyze } from './phases/3-analyze/index.ts';
import { optimize } from './phases/4-optimize/index.ts';
import { generate } from './phases/5-generate/index.ts';
import { bundle, type BundleOutput } from './phases/6-bundle/index.ts';

export { nodeHost, memoryHost, type Host } from './host.ts';
export { BuildSession } from './session.ts';
export type { Diagnostic } from './diagnostics/index.ts';
export type { LogicalPlan, Analysis, PhysicalPlan, EmittedPipeline };

/** The result of checking: everything up to and including optimize. */
export interface CheckResult {
  diagnostics: Diagnostic[];
  plan: LogicalPlan | null;
  analysis: Analysis | null;
  physical: PhysicalPlan | null;
}

/** What check and build compare the pipeline with. */
export interface CheckOptions {
  /**
   * The previous build, to check that this one keeps its operators' state:
   * its manifest.json (`--previous`), or the output folder of a build, whose
   * `<out>/<pipeline>/manifest.json` is compared with when there is one.
   * Absent: no comparison.
   */
  previous?: { manifest: string } | { out: string };
  /** Dropping the state of an operator that is gone is a warning (PC2131), not an error (PC1131). */
  allowStateLoss?: boolean;
}

/** Type-checks, plans, analyzes and optimizes a pipeline file (with a session: reusing the previous build's work, and recording what this one read). */
export async function check(host: Host, file: string, options: CheckOptions = {}, session?: BuildSession): Promise<CheckResult> {
  // The plan's bundle and evaluator start first: they run while TypeScript checks the file.
  const planning = startPlan(host, path.resolve(host.root, file), session?.takeEvaluator());
  const loaded = loadAndCheck(host, file, session?.program);
  if (session) {
    session.program = loaded.program;
    session.inputs = new Set(loaded.program.getSourceFiles().map((f) => path.resolve(f.fileName)).filter((f) => f.startsWith(host.root + path.sep) && !f.includes(`${path.sep}node_modules${path.sep}`)));
  }
  if (hasErrors(loaded.diagnostics)) {
    await abandonPlan(planning);
    return { diagnostics: loaded.diagnostics, plan: null, analysis: null, physical: null };
  }
  const planned = await plan(loaded, planning);
  for (const input of planned.inputs ?? []) session?.inputs.add(input);
  if (!planned.plan) return { diagnostics: [...loaded.diagnostics, ...planned.diagnostics], plan: null, analysis: null, physical: null };
  const previous = options.previous && ('manifest' in options.previous
    ? { file: path.resolve(host.root, options.previous.manifest), required: true }
    : { file: path.resolve(host.root, options.previous.out, planned.plan.pipeline, 'manifest.json'), required: false });
  const analysis = analyze(loaded, planned.plan, { previous, allowStateLoss: options.allowStateLoss });
  const diagnostics = [...loaded.diagnostics, ...analysis.diagnostics];
  return { diagnostics, plan: planned.plan, analysis, physical: hasErrors(diagnostics) ? null : optimize(planned.plan) };
}

/** The result of a build: diagnostics, and when there are no errors, the generated modules and the output files. */
export interface BuildResult extends CheckResult {
  emitted: EmittedPipeline | null;
  files: BundleOutput | null;
  /** Where the files were written: `<out>/<pipeline>`. */
  outDir: string | null;
}

/** Builds a pipeline file into `<out>/<pipeline>/`; writes nothing when there are errors. */
export async function build(host: Host, file: string, out = 'dist', options: CheckOptions = {}, session?: BuildSession): Promise<BuildResult> {
  const checked = await check(host, file, options, session);
  if (!checked.physical || !checked.analysis || !checked.plan) return { ...checked, emitted: null, files: null, outDir: null };
  const emitted = generate(host, path.resolve(host.root, file), checked.plan, checked.physical, checked.analysis);
  const files = await bundle(host, emitted, session?.bundler);
  const outDir = path.resolve(host.root, out, checked.plan.pipeline);
  for (const [name, contents] of files) host.writeFile(path.join(outDir, name), contents);
  return { ...checked, emitted, files, outDir };
}
