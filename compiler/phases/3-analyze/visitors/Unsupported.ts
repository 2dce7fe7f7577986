/** Operators whose runtime (event time, windows, keyed state, timers, connect) is not in this release (PC1900). */
import ts from 'typescript';
import { diagnostics, NO_LOCATION } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import type { Visitor } from '../context.ts';

const FEATURES: Record<string, string> = {
  assignTimestamps: 'Event time (assignTimestamps)',
  window: 'Keyed windows',
  windowAll: 'windowAll',
  keyedProcess: 'KeyedProcessFunction (keyed state and timers)',
  coMap: 'connect(...).map',
  coProcess: 'connect(...).process',
};

export const Unsupported: Visitor = ({ node, call }, ctx) => {
  const at = call ? (ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call) : null;
  ctx.report(diagnostics.notSupportedYet(at ? locationOfNode(ctx.host, at) : NO_LOCATION, {
    feature: FEATURES[node.kind] ?? node.kind,
    hint: 'Rolling aggregations (sum, reduce, ...), process, union and side outputs work today; event time, windows, keyed state and timers come in the next release.',
  }));
};
