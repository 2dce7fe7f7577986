/**
 * open(ctx) and close() of a process function may be async (DESIGN.md §2: a
 * lookup table loaded in open(), a connection closed in close()); every other
 * method must be synchronous (PC1005). analyzeFunction checks every method the
 * same way, so the process visitors hand it a context that drops PC1005 for
 * exactly the open and close methods of the function object.
 *
 * In: the visitor's context and the process function argument. Out: the context to analyze it with.
 */
import ts from 'typescript';
import { DIAGNOSTIC_TABLE, type DiagnosticLocation } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import type { AnalyzeContext } from '../context.ts';
import { resolveFunction } from '../functions.ts';

/** The lifecycle methods that may return a promise. */
const ASYNC_ALLOWED = new Set(['open', 'close']);

/** `open` for `open() {}`, `open: async () => {}` and `open: async function () {}`. */
function methodName(method: ts.Node): string | null {
  const named = ts.isMethodDeclaration(method) ? method : ts.isPropertyAssignment(method.parent) ? method.parent : null;
  return named && (ts.isIdentifier(named.name) || ts.isStringLiteral(named.name)) ? named.name.text : null;
}

const key = (location: DiagnosticLocation) => `${location.file}:${location.line}:${location.column}:${location.length}`;

/** `ctx`, except that PC1005 is not reported for the function object's open and close methods. */
export function allowingAsyncOpenClose(ctx: AnalyzeContext, argument: ts.Expression | undefined): AnalyzeContext {
  if (!argument) return ctx;
  const lifecycle = resolveFunction(ctx, argument).objectMethods.filter((method) => ASYNC_ALLOWED.has(methodName(method) ?? ''));
  if (lifecycle.length === 0) return ctx;
  // analyzeFunction reports PC1005 at the whole function node; those locations are the ones to drop.
  const allowed = new Set(lifecycle.map((method) => key(locationOfNode(ctx.host, method))));
  return {
    ...ctx,
    report: (diagnostic) => {
      if (diagnostic.code === DIAGNOSTIC_TABLE.asyncFunction.code && allowed.has(key(diagnostic))) return;
      ctx.report(diagnostic);
    },
  };
}
