/**
 * Phase 3, analyze: pipec's own checks on the user's code (per node, and over
 * the whole job: file sinks against inputs and each other, unique operator
 * uids, state kept across an upgrade from the previous build), for every user
 * function the decision to inline its body or call it by reference, the
 * declared column types of CSV and database sources, each stateful operator's state, and
 * the user metrics' literal names (PC1150, PC1151).
 *
 * In: LoadedProgram (AST + checker), LogicalPlan, and optionally the previous
 * build's manifest. Out: Analysis.
 */
import path from 'node:path';
import ts from '../../typescript.ts';
import { diagnostics, NO_LOCATION, type Diagnostic } from '../../diagnostics/index.ts';
import { calleeName, locationAt, locationOfNode } from '../../diagnostics/location.ts';
import type { Analysis, FunctionPlan, OperatorState } from '../../ir/analysis.ts';
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { LoadedProgram } from '../1-load/index.ts';
import type { AnalyzeContext, VisitedNode, Visitor } from './context.ts';
import { csvColumnTypes } from './csv-columns.ts';
import { rowColumnTypes } from './row-types.ts';
import { checkFileSinks } from './files.ts';
import { checkMetrics } from './metrics.ts';
import { edgeSchemas } from './edge-types.ts';
import { checkStateCompatibility, type PreviousManifest } from './state-compatibility.ts';
import { checkUids } from './uids.ts';
import { checkWorkerSources } from './worker-sources.ts';
import { optimize } from '../4-optimize/index.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';
import { visitors } from './visitors/index.ts';

/** Index of call expressions by the 1-based line:column of the called method's name (what V8 reports for a call). */
function callIndex(sourceFile: ts.SourceFile): Map<string, ts.CallExpression> {
  const index = new Map<string, ts.CallExpression>();
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node)) {
      const callee = node.expression;
      const nameNode = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
      const { line, character } = sourceFile.getLineAndCharacterOfPosition(nameNode.getStart(sourceFile));
      index.set(`${line + 1}:${character + 1}`, node);
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return index;
}

/** What analyze checks beyond the pipeline itself. */
export interface AnalyzeOptions {
  /** The previous build's manifest, to check that this build keeps its operators' state (state-compatibility.ts). */
  previous?: PreviousManifest;
  /** A stateful operator of the previous build that is gone is a warning (PC2131) instead of an error (PC1131). */
  allowStateLoss?: boolean;
}

/** Runs every visitor over the plan, then the checks over the whole job. */
export function analyze(loaded: LoadedProgram, plan: LogicalPlan, options: AnalyzeOptions = {}): Analysis {
  const found: Diagnostic[] = [];
  const functions: Record<number, FunctionPlan> = {};
  const state: Record<number, OperatorState> = {};
  const indexes = new Map<string, Map<string, ts.CallExpression>>();
  const ctx: AnalyzeContext = {
    host: loaded.host,
    program: loaded.program,
    checker: loaded.checker,
    plan,
    mutatedSymbols: new Map(),
    isUserFile: (file) => !loaded.program.isSourceFileDefaultLibrary(file) && !file.fileName.includes('/node_modules/') && file.fileName.startsWith(loaded.host.root + path.sep),
    report: (diagnostic) => found.push(diagnostic),
    setFunction: (fp) => { functions[fp.nodeId] = fp; },
    setState: (nodeId, operatorState) => { state[nodeId] = operatorState; },
  };
  const callAt = (site: LogicalPlan['nodes'][number]['site']): ts.CallExpression | null => {
    if (!site) return null;
    const sourceFile = loaded.program.getSourceFile(path.resolve(loaded.host.root, site.file));
    if (!sourceFile) return null;
    if (!indexes.has(site.file)) indexes.set(site.file, callIndex(sourceFile));
    return indexes.get(site.file)!.get(`${site.line}:${site.column}`) ?? null;
  };

  const consumers = new Map<number, number>();
  for (const node of plan.nodes) for (const input of node.inputs) consumers.set(input, (consumers.get(input) ?? 0) + 1);

  const visited: VisitedNode[] = [];
  const columnTypes: NonNullable<Analysis['columnTypes']> = {};
  for (const node of plan.nodes) {
    const call = callAt(node.site);
    visited.push({ node, call });
    (visitors[node.kind] as Visitor | undefined)?.({ node, call }, ctx);
    const columns = csvColumnTypes({ node, call }, ctx) ?? rowColumnTypes({ node, call }, ctx);
    if (columns) columnTypes[node.id] = columns;
    if (node.kind !== 'sink' && !consumers.has(node.id)) {
      const location = call ? locationOfNode(loaded.host, calleeName(call)) : node.site ? locationAt(loaded, node.site) : NO_LOCATION;
      found.push(diagnostics.streamWithoutSink(location, { operator: node.label }));
    }
  }
  checkFileSinks(visited, ctx);
  found.push(...checkMetrics(ctx, visited));
  found.push(...checkUids(ctx, plan, (node) => callAt(node.site)));
  const upgrade = options.previous ? checkStateCompatibility(ctx, options.previous, loaded.entry, state, (node) => callAt(node.site), options.allowStateLoss ?? false) : null;
  if (upgrade) found.push(...upgrade.diagnostics);
  // Some checks need to know where stages are cut: optimize is a pure function of the plan (it reports its own failures later).
  let physical: PhysicalPlan | null = null;
  try { physical = optimize(plan); } catch { physical = null; }
  const edges = edgeSchemas(ctx, physical, (node) => callAt(node.site));
  found.push(...edges.diagnostics);
  if (physical) found.push(...checkWorkerSources(plan, physical, loaded.host, (node) => callAt(node.site)));
  return { plan, functions, diagnostics: found, ...(Object.keys(columnTypes).length > 0 ? { columnTypes } : {}), edgeSchemas: edges.schemas, state, ...(upgrade?.compared ? { previousManifest: upgrade.compared } : {}) };
}
