/**
 * Operator uids are unique (PC1130): the runtime keeps each operator's
 * checkpointed state under its uid, so two operators with one uid would
 * restore each other's state. A user uid may also collide with another
 * node's default uid (2-plan/uids.ts); the diagnostic points at the `.uid(...)`
 * call that made the collision.
 *
 * In: the plan and each node's DSL call. Out: diagnostics.
 */
import ts from '../../typescript.ts';
import { diagnostics, NO_LOCATION, type Diagnostic, type DiagnosticLocation } from '../../diagnostics/index.ts';
import { calleeName, locationAt, locationOfNode } from '../../diagnostics/location.ts';
import type { LogicalNode, LogicalPlan } from '../../ir/logical-plan.ts';
import type { AnalyzeContext } from './context.ts';

/** Methods that return the stream they are called on, so `.uid(...)` may follow them. */
const STREAM_SETTERS = new Set(['name', 'setParallelism', 'uid']);

/** The `.uid(...)` call on the stream a DSL call returns: `.sum('n').name('totals').uid('totals')`. */
export function uidCallOf(call: ts.CallExpression): ts.CallExpression | null {
  let expression: ts.Expression = call;
  for (;;) {
    const access = expression.parent;
    if (!ts.isPropertyAccessExpression(access) || access.expression !== expression || !STREAM_SETTERS.has(access.name.text)) return null;
    const next = access.parent;
    if (!ts.isCallExpression(next) || next.expression !== access) return null;
    if (access.name.text === 'uid') return next;
    expression = next;
  }
}

/** Where to report a node's uid: its `.uid(...)` argument, else its DSL call. */
function uidLocation(ctx: AnalyzeContext, node: LogicalNode, call: ts.CallExpression | null): DiagnosticLocation {
  const uidCall = call && node.uidFromUser ? uidCallOf(call) : null;
  if (uidCall) return locationOfNode(ctx.host, uidCall.arguments[0] ?? uidCall);
  if (call) return locationOfNode(ctx.host, calleeName(call));
  return node.site ? locationAt(ctx, node.site) : NO_LOCATION;
}

/** PC1130 for each node whose uid an earlier node already has. */
export function checkUids(ctx: AnalyzeContext, plan: LogicalPlan, callOf: (node: LogicalNode) => ts.CallExpression | null): Diagnostic[] {
  const found: Diagnostic[] = [];
  const first = new Map<string, LogicalNode>();
  for (const node of plan.nodes) {
    const earlier = first.get(node.uid);
    if (!earlier) { first.set(node.uid, node); continue; }
    // Report where the user chose the uid: this node's .uid(...) if it has one, else the earlier node's.
    const [at, other] = node.uidFromUser || !earlier.uidFromUser ? [node, earlier] : [earlier, node];
    found.push(diagnostics.duplicateUid(uidLocation(ctx, at, callOf(at)), {
      uid: node.uid,
      whose: other.uidFromUser ? 'the uid' : 'the default uid',
      other: other.label,
      line: other.site ? (other.site.file === at.site?.file ? String(other.site.line) : `${other.site.line} of ${other.site.file}`) : '?',
    }));
  }
  return found;
}
