/**
 * Files are safe: a file sink must not write one of the job's input files
 * (PC1101: the sink would truncate the input before it is read) and two sinks
 * must not write the same file (PC1102).
 *
 * In: the visited source and sink nodes (plan node + DSL call). Out: diagnostics.
 * Paths are compared after resolving them against one folder (the project
 * root), so `./out.txt` and `out.txt` are the same file; a source glob covers
 * every path it matches, with the runtime's rules (tinyglobby, i.e. picomatch).
 */
import path from 'node:path';
import picomatch from 'picomatch';
import { isDynamicPattern } from 'tinyglobby';
import { diagnostics, NO_LOCATION, type DiagnosticLocation } from '../../diagnostics/index.ts';
import { locationAt, locationOfNode } from '../../diagnostics/location.ts';
import { connectorOf, type LogicalNode } from '../../ir/logical-plan.ts';
import type { AnalyzeContext, VisitedNode } from './context.ts';

/** The path option of a file connector node, or null for other connectors. */
function filePathOf(node: LogicalNode): string | null {
  if (!connectorOf(node)?.startsWith('file.') || (node.kind !== 'source' && node.kind !== 'sink')) return null;
  const path = node.spec.options.path;
  return typeof path === 'string' ? path : null;
}

/** Where a diagnostic about a connector goes: its descriptor argument (`file.csv(...)` in `.sink(file.csv(...))`). */
function connectorLocation({ node, call }: VisitedNode, ctx: AnalyzeContext): DiagnosticLocation {
  if (call) return locationOfNode(ctx.host, call.arguments[0] ?? call);
  return node.site ? locationAt(ctx, node.site) : NO_LOCATION;
}

/** `8`, or `8 of lib/sources.ts` when the node was created in another file than the one reported on. */
function lineOf(node: LogicalNode, reportedOn: LogicalNode): string {
  if (!node.site) return '?';
  return node.site.file === reportedOn.site?.file ? String(node.site.line) : `${node.site.line} of ${node.site.file}`;
}

/** A path resolved against the project root, with forward slashes (globs need them). */
function normalized(root: string, file: string): string {
  return path.resolve(root, file).split(path.sep).join('/');
}

/** True when the source (a path or a glob) reads the resolved sink path. */
function sourceReads(root: string, sourcePath: string, sinkPath: string): boolean {
  if (!isDynamicPattern(sourcePath)) return normalized(root, sourcePath) === sinkPath;
  return picomatch(normalized(root, sourcePath))(sinkPath);
}

/** Reports file sinks that write an input of the job or a file another sink writes. */
export function checkFileSinks(visited: readonly VisitedNode[], ctx: AnalyzeContext): void {
  const root = ctx.host.root;
  const sources = visited.filter((v) => v.node.kind === 'source' && filePathOf(v.node) !== null);
  const written = new Map<string, VisitedNode>();
  for (const sink of visited) {
    const sinkPath = sink.node.kind === 'sink' ? filePathOf(sink.node) : null;
    if (sinkPath === null) continue;
    const resolved = normalized(root, sinkPath);
    const reader = sources.find((s) => sourceReads(root, filePathOf(s.node)!, resolved));
    if (reader) {
      ctx.report(diagnostics.sinkOverwritesInput(connectorLocation(sink, ctx), {
        path: sinkPath,
        source: `${connectorOf(reader.node)}('${filePathOf(reader.node)}')`,
        line: lineOf(reader.node, sink.node),
      }));
      continue;
    }
    const first = written.get(resolved);
    if (first) {
      ctx.report(diagnostics.duplicateFileSink(connectorLocation(sink, ctx), { path: sinkPath, line: lineOf(first.node, sink.node) }));
      continue;
    }
    written.set(resolved, sink);
  }
}
