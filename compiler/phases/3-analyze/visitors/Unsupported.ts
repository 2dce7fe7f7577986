/** Operators whose runtime (event time, windows, keyed state, timers, connect) is not in this release (PC1900). */
import { diagnostics, NO_LOCATION } from '../../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../../diagnostics/location.ts';
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
  ctx.report(diagnostics.notSupportedYet(call ? locationOfNode(ctx.host, calleeName(call)) : NO_LOCATION, {
    feature: FEATURES[node.kind] ?? node.kind,
    hint: 'Rolling aggregations (sum, reduce, ...), process, union and side outputs work today; event time, windows, keyed state and timers come in the next release.',
  }));
};
