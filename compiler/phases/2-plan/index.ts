/**
 * Phase 2, plan: bundles the pipeline module in memory, evaluates it, runs its
 * build function against the DSL builder with call-site capture on, and turns
 * the graph into a LogicalPlan whose nodes know where in the user's file they
 * were created.
 *
 * In: LoadedProgram. Out: LogicalPlan, or diagnostics (no default export, a throw).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import * as esbuild from 'esbuild';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import { instantiateGraph, isPipeline } from '../../../runtime/api/pipeline.ts';
import { parseDuration } from '../../../runtime/api/duration.ts';
import { setCallSiteCapture, type Graph, type StackPosition } from '../../../runtime/api/graph.ts';
import { diagnostics, NO_LOCATION, type Diagnostic } from '../../diagnostics/index.ts';
import { displayPath, pipecRuntimeDir, type Host } from '../../host.ts';
import { hostLoader, pipecResolver, REQUIRE_BANNER } from '../../esbuild/plugins.ts';
import type { LoadedProgram } from '../1-load/index.ts';
import type { LogicalPlan, SourcePosition } from '../../ir/logical-plan.ts';
import { toLogicalNode } from './nodes.ts';
import { locationAt } from '../../diagnostics/location.ts';

/** The result of planning. */
export interface PlanResult { plan: LogicalPlan | null; diagnostics: Diagnostic[] }

/** Maps positions in the evaluated bundle back to the user's files. */
class FrameMapper {
  private readonly trace: TraceMap;
  constructor(private readonly bundleFile: string, map: string, private readonly host: Host) {
    this.trace = new TraceMap(map);
  }
  /** The first frame that lies in the user's own code (not pipec, not node_modules). */
  userPosition(frames: readonly StackPosition[]): SourcePosition | null {
    const bundleUrl = pathToFileURL(this.bundleFile).href;
    for (const frame of frames) {
      if (frame.file !== this.bundleFile && frame.file !== bundleUrl) continue;
      const original = originalPositionFor(this.trace, { line: frame.line, column: frame.column - 1 });
      if (!original.source || original.line === null) continue;
      const absolute = path.resolve(path.dirname(this.bundleFile), original.source);
      if (absolute.startsWith(pipecRuntimeDir) || absolute.includes(`${path.sep}node_modules${path.sep}`)) continue;
      return { file: displayPath(this.host, absolute), line: original.line, column: original.column + 1 };
    }
    return null;
  }
}

/** Parses a V8 stack string into positions (for errors thrown by the build function). */
function framesOf(error: unknown): StackPosition[] {
  const stack = error instanceof Error ? error.stack ?? '' : '';
  const frames: StackPosition[] = [];
  for (const match of stack.matchAll(/\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/gm)) {
    frames.push({ file: match[1], line: Number(match[2]), column: Number(match[3]) });
  }
  return frames;
}

/** Evaluates the pipeline module and builds its LogicalPlan. */
export async function plan(loaded: LoadedProgram): Promise<PlanResult> {
  const { host, entryFile } = loaded;
  const tmpDir = fs.mkdtempSync(path.join(os.tmpdir(), 'pipec-plan-'));
  const bundleFile = path.join(tmpDir, 'pipeline.mjs');
  try {
    const result = await esbuild.build({
      entryPoints: [entryFile], bundle: true, write: false, format: 'esm', platform: 'node', target: 'node20',
      outfile: bundleFile, sourcemap: 'external', absWorkingDir: host.root, logLevel: 'silent',
      banner: { js: REQUIRE_BANNER }, plugins: [pipecResolver(), hostLoader(host)],
    });
    const code = result.outputFiles.find((f) => f.path.endsWith('.mjs'))!.text;
    const map = result.outputFiles.find((f) => f.path.endsWith('.map'))!.text;
    fs.writeFileSync(bundleFile, code);
    const mapper = new FrameMapper(bundleFile, map, host);
    const entryLocation = (position: SourcePosition | null) => (position ? locationAt(loaded, position) : NO_LOCATION);

    let exported: unknown;
    let graph: Graph;
    setCallSiteCapture(true);
    try {
      exported = ((await import(pathToFileURL(bundleFile).href)) as { default?: unknown }).default;
      if (!isPipeline(exported)) {
        return { plan: null, diagnostics: [diagnostics.noPipelineExport({ ...entryLocation({ file: displayPath(host, entryFile), line: 1, column: 1 }), length: 0 }, {})] };
      }
      graph = instantiateGraph(exported);
    } catch (error) {
      const where = mapper.userPosition(framesOf(error));
      const message = error instanceof Error ? error.message : String(error);
      return { plan: null, diagnostics: [diagnostics.buildFunctionThrew(entryLocation(where), { error: message })] };
    } finally {
      setCallSiteCapture(false);
    }

    const nodes = graph.nodes.map((node) => toLogicalNode(node, node.frames ? mapper.userPosition(node.frames) : null));
    const sources = nodes.filter((n) => n.kind === 'source');
    const requested = graph.options.mode ?? 'auto';
    const mode = requested === 'auto' ? (sources.every((s) => s.bounded) ? 'batch' : 'streaming') : requested;
    const checkpoint = graph.options.checkpoint;
    return {
      plan: {
        pipeline: graph.name,
        file: displayPath(host, entryFile),
        parallelism: graph.options.parallelism ?? 1,
        mode,
        checkpoint: checkpoint ? { interval: parseDuration(checkpoint.interval), store: checkpoint.store ?? 'file' } : null,
        nodes,
      },
      diagnostics: [],
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
    fs.rmSync(tmpDir, { recursive: true, force: true });
  }
}
