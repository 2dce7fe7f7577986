/**
 * What a user metric's name and labels may be: Prometheus names, not pipec's
 * own. One place for the checks the runtime makes when ctx.metrics creates a
 * metric (user-metrics.ts) and the compiler makes on literal names (PC1150,
 * compiler/phases/3-analyze/metrics.ts).
 */

/** The labels pipec puts on every user metric, after `pipeline` (the registry's default label). */
export const OPERATOR_LABELS = ['stage', 'operator', 'uid', 'task'] as const;

/** The operator labels of one operator instance. */
export type OperatorLabels = Record<(typeof OPERATOR_LABELS)[number], string>;

/** The kinds of user metric, as `ctx.metrics` names them. */
export type MetricKind = 'counter' | 'gauge' | 'histogram';

const PROMETHEUS_NAME = /^[a-zA-Z_][a-zA-Z0-9_]*$/;
const PIPEC_LABELS: ReadonlySet<string> = new Set(['pipeline', ...OPERATOR_LABELS]);

/** Why `name` cannot be a user metric's name, or null when it can. */
export function metricNameProblem(name: unknown): string | null {
  if (typeof name !== 'string' || name.length === 0) return 'is not a non-empty string';
  if (!PROMETHEUS_NAME.test(name)) return 'is not a Prometheus metric name (letters, digits and underscores, not starting with a digit)';
  if (name.startsWith('__')) return "starts with '__', which Prometheus reserves";
  if (name.startsWith('pipec_')) return "starts with 'pipec_', which pipec's own metrics use";
  return null;
}

/** Why `label` cannot be one of a user metric's label names, or null when it can. */
export function labelNameProblem(label: unknown): string | null {
  if (typeof label !== 'string' || !PROMETHEUS_NAME.test(label)) return 'is not a Prometheus label name (letters, digits and underscores, not starting with a digit)';
  if (label.startsWith('__')) return "starts with '__', which Prometheus reserves";
  if (PIPEC_LABELS.has(label)) return 'is a label pipec gives every user metric (pipeline, stage, operator, uid, task)';
  if (label === 'le' || label === 'quantile') return 'is reserved by Prometheus for histograms and summaries';
  return null;
}

