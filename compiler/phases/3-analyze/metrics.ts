/**
 * User metrics at build time: every `ctx.metrics.counter / gauge /
 * histogram(name, help, labels)` call reachable from a process function
 * (in it, and in the user's code it calls) whose name is a literal is
 * checked the way the runtime will check it (runtime/internal/user-metrics.ts):
 * a name or label that is not a Prometheus name, or is pipec's own, is
 * PC1150; a name used across the pipeline as two types, with two label sets
 * or two help texts is PC1151 (one name is one metric family on /metrics).
 * Names and labels computed at run time are left to the runtime.
 *
 * In: the visited nodes and the checker. Out: diagnostics.
 */
import path from 'node:path';
import ts from '../../typescript.ts';
import { labelNameProblem, metricNameProblem, type MetricKind } from '../../../runtime/internal/metric-names.ts';
import { diagnostics, type Diagnostic } from '../../diagnostics/index.ts';
import { locationOfNode } from '../../diagnostics/location.ts';
import { pipecRuntimeDir } from '../../host.ts';
import type { AnalyzeContext, VisitedNode } from './context.ts';
import { reachableCalls } from './state.ts';

const METRIC_KINDS: ReadonlySet<string> = new Set<MetricKind>(['counter', 'gauge', 'histogram']);

/** The node kinds whose function gets a context with `metrics`. */
const WITH_METRICS: ReadonlySet<string> = new Set(['process', 'keyedProcess', 'coProcess']);

/** Whether `expression` is pipec's Metrics (`ctx.metrics`). */
function isMetrics(ctx: AnalyzeContext, expression: ts.Expression): boolean {
  const symbol = ctx.checker.getTypeAtLocation(expression).getSymbol();
  return symbol?.getName() === 'Metrics' && !!symbol.declarations?.some((d) => path.resolve(d.getSourceFile().fileName).startsWith(pipecRuntimeDir));
}

/** The text of a string literal type, or null. */
function literalText(ctx: AnalyzeContext, expression: ts.Expression | undefined): string | null {
  const type = expression && ctx.checker.getTypeAtLocation(expression);
  return type?.isStringLiteral() ? type.value : null;
}

/** How a literal name is used: its type, labels and help when they are literals too (null: not known here). */
interface Use { kind: MetricKind; labels: string[] | null; help: string | null; line: number }

/** `a counter`, `a gauge with the labels [status]`: a use for messages. */
function describe(use: Use, part: 'kind' | 'labels' | 'help'): string {
  const article = use.kind === 'counter' ? 'a counter' : use.kind === 'gauge' ? 'a gauge' : 'a histogram';
  if (part === 'labels') return `${article} with the labels [${use.labels!.join(', ')}]`;
  if (part === 'help') return `${article} with the help text ${JSON.stringify(use.help)}`;
  return article;
}

/** PC1150 and PC1151 over every process function of the pipeline. */
export function checkMetrics(ctx: AnalyzeContext, visited: readonly VisitedNode[]): Diagnostic[] {
  const found: Diagnostic[] = [];
  const first = new Map<string, Use>();
  const checked = new Set<ts.CallExpression>();
  for (const { node, call } of visited) {
    const argument = call?.arguments[0];
    if (!call || !argument || !WITH_METRICS.has(node.kind)) continue;
    const calls = reachableCalls(ctx, argument, call, (c) => ts.isPropertyAccessExpression(c.expression) && METRIC_KINDS.has(c.expression.name.text) && isMetrics(ctx, c.expression.expression));
    for (const metricCall of calls) {
      if (checked.has(metricCall)) continue;
      checked.add(metricCall);
      const kind = (metricCall.expression as ts.PropertyAccessExpression).name.text as MetricKind;
      const [nameArgument, helpArgument, labelsArgument] = metricCall.arguments;
      const name = literalText(ctx, nameArgument);
      if (name === null) continue;
      const nameProblem = metricNameProblem(name);
      if (nameProblem) {
        found.push(diagnostics.invalidMetric(locationOfNode(ctx.host, nameArgument), { what: `The metric name '${name}'`, problem: nameProblem }));
        continue;
      }
      let labels: string[] | null = null;
      if (labelsArgument && ts.isArrayLiteralExpression(labelsArgument)) {
        labels = [];
        for (const element of labelsArgument.elements) {
          const label = literalText(ctx, element as ts.Expression);
          if (label === null) { labels = null; break; }
          const problem = labelNameProblem(label);
          if (problem) found.push(diagnostics.invalidMetric(locationOfNode(ctx.host, element), { what: `The label '${label}' of the metric '${name}'`, problem }));
          labels.push(label);
        }
      } else if (!labelsArgument) {
        labels = [];
      }
      const help = helpArgument ? literalText(ctx, helpArgument) : null;
      const at = locationOfNode(ctx.host, nameArgument);
      const use: Use = { kind, labels, help, line: at.line };
      const earlier = first.get(name);
      if (!earlier) { first.set(name, use); continue; }
      const clash: 'kind' | 'labels' | 'help' | null = earlier.kind !== kind ? 'kind'
        : earlier.labels && labels && [...earlier.labels].sort().join(',') !== [...labels].sort().join(',') ? 'labels'
        : earlier.help !== null && help !== null && earlier.help !== help ? 'help'
        : null;
      if (clash) found.push(diagnostics.metricClash(at, { name, use: describe(use, clash), other: describe(earlier, clash), line: String(earlier.line) }));
      else { earlier.labels ??= labels; earlier.help ??= help; }
    }
  }
  return found;
}
