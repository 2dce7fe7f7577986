/**
 * User metrics (`ctx.metrics`, Flink's operator metric group): the counters,
 * gauges and histograms process functions create by name, as prom-client
 * metrics in the registry a worker serves on /metrics.
 *
 * A name is one metric family on the endpoint. Every series carries the
 * operator's labels (`stage`, `operator`, `uid`, `task`; `pipeline` is the
 * registry's default label) and then the label names the user declared, so
 * one name used by several operators, or by one operator's several tasks, is
 * one family with a series each. A second use of a name with another type,
 * other labels, other buckets or another help text is an error (MetricError),
 * as is a name or label that is not a Prometheus name or is pipec's own: the
 * compiler reports the same problems for literal names (PC1150, PC1151,
 * compiler/phases/3-analyze/metrics.ts), with the same checks (metric-names.ts).
 *
 * When a task moves to another worker, `removeTask` drops its series, so the
 * endpoint shows only what this process runs.
 *
 * In: names, help, labels and values from user code. Out: series in a prom-client Registry.
 */
import client from 'prom-client';
import type { Counter, Gauge, Histogram, MetricLabels, Metrics } from '../api/functions.ts';
import { labelNameProblem, metricNameProblem, OPERATOR_LABELS, type MetricKind, type OperatorLabels } from './metric-names.ts';

export { OPERATOR_LABELS, type OperatorLabels, type MetricKind } from './metric-names.ts';

/** A user metric used wrongly: an invalid name or label, a name used with another type or labels, label values that do not match. */
export class MetricError extends Error {
  override name = 'MetricError';
}

interface Family {
  name: string;
  kind: MetricKind;
  labels: string[];
  help: string | undefined;
  buckets: string;
  /** Which operator created it first (messages). */
  where: string;
  metric: client.Counter<string> | client.Gauge<string> | client.Histogram<string>;
}

/** The user metrics of one process, in the registry it serves. */
export class UserMetrics {
  private readonly families = new Map<string, Family>();
  /** Per task label: the series its operators wrote (family and full labels), removed when the task moves. */
  private readonly series = new Map<string, Map<string, { family: Family; labels: Record<string, string | number> }>>();
  /** Per task label: how many times it was removed. Operators made before a removal write nothing any more (a moved task's job may still be stopping). */
  private readonly removals = new Map<string, number>();

  constructor(readonly registry: client.Registry) {}

  /** `ctx.metrics` of one operator instance; `where` names the operator in messages (`process (pipeline.ts:12:6)`). */
  forOperator(operator: OperatorLabels, where: string): Metrics {
    const handles = new Map<string, unknown>();
    const removals = this.removals.get(operator.task) ?? 0;
    const live = () => (this.removals.get(operator.task) ?? 0) === removals;
    const handle = <H>(kind: MetricKind, name: string, help: string | undefined, labels: readonly string[] | undefined, buckets: readonly number[] | undefined, make: (family: Family, series: (values: object | undefined) => Record<string, string | number>) => H): H => {
      const id = `${kind}\u0000${name}\u0000${help ?? ''}\u0000${(labels ?? []).join(',')}\u0000${(buckets ?? []).join(',')}`;
      let h = handles.get(id) as H | undefined;
      if (h === undefined) {
        const family = this.family(kind, name, help, labels ?? [], buckets, where);
        h = make(family, this.seriesOf(family, operator, where));
        handles.set(id, h);
      }
      return h;
    };
    return {
      counter: <L extends string>(name: string, help?: string, labels?: readonly L[]): Counter<L> => handle('counter', name, help, labels, undefined, (family, series) => {
        const metric = family.metric as client.Counter<string>;
        return {
          inc: (a?: MetricLabels<L> | number, b?: number) => { const [values, by] = split(a, b); const labels = series(values); if (live()) metric.inc(labels, by ?? 1); },
        };
      }),
      gauge: <L extends string>(name: string, help?: string, labels?: readonly L[]): Gauge<L> => handle('gauge', name, help, labels, undefined, (family, series) => {
        const metric = family.metric as client.Gauge<string>;
        return {
          set: (a: MetricLabels<L> | number, b?: number) => { const [values, value] = split(a, b); const labels = series(values); if (live()) metric.set(labels, value ?? NaN); },
          inc: (a?: MetricLabels<L> | number, b?: number) => { const [values, by] = split(a, b); const labels = series(values); if (live()) metric.inc(labels, by ?? 1); },
          dec: (a?: MetricLabels<L> | number, b?: number) => { const [values, by] = split(a, b); const labels = series(values); if (live()) metric.dec(labels, by ?? 1); },
        };
      }),
      histogram: <L extends string>(name: string, help?: string, labels?: readonly L[], buckets?: readonly number[]): Histogram<L> => handle('histogram', name, help, labels, buckets, (family, series) => {
        const metric = family.metric as client.Histogram<string>;
        return {
          observe: (a: MetricLabels<L> | number, b?: number) => { const [values, value] = split(a, b); const labels = series(values); if (live()) metric.observe(labels, value ?? NaN); },
        };
      }),
    };
  }

  /** Drops every series of a task's operators (the task moved to another worker); those operators write nothing more. */
  removeTask(task: string): void {
    this.removals.set(task, (this.removals.get(task) ?? 0) + 1);
    const written = this.series.get(task);
    if (!written) return;
    for (const { family, labels } of written.values()) family.metric.remove(labels);
    this.series.delete(task);
  }

  /** The family of a name, created on first use; a use that does not fit it is a MetricError. */
  private family(kind: MetricKind, name: string, help: string | undefined, labels: readonly string[], buckets: readonly number[] | undefined, where: string): Family {
    const call = `ctx.metrics.${kind}(${JSON.stringify(name)}) in ${where}`;
    const nameProblem = metricNameProblem(name);
    if (nameProblem) throw new MetricError(`${call}: the name ${nameProblem}`);
    if (help !== undefined && typeof help !== 'string') throw new MetricError(`${call}: help must be a string`);
    if (!Array.isArray(labels)) throw new MetricError(`${call}: labels must be an array of label names`);
    for (const label of labels) {
      const problem = labelNameProblem(label);
      if (problem) throw new MetricError(`${call}: the label ${JSON.stringify(label)} ${problem}`);
    }
    if (new Set(labels).size !== labels.length) throw new MetricError(`${call}: a label is named twice`);
    if (buckets !== undefined && (!Array.isArray(buckets) || buckets.length === 0 || buckets.some((b, i) => !Number.isFinite(b) || (i > 0 && b <= buckets[i - 1])))) {
      throw new MetricError(`${call}: buckets must be finite numbers in ascending order`);
    }
    const sortedLabels = [...labels].sort();
    const bucketText = (buckets ?? []).join(',');
    const existing = this.families.get(name);
    if (existing) {
      const clash = existing.kind !== kind ? `is a ${existing.kind}`
        : existing.labels.join(',') !== sortedLabels.join(',') ? `has the labels [${existing.labels.join(', ')}]`
        : existing.buckets !== bucketText ? `has other buckets ([${existing.buckets}])`
        : help !== undefined && existing.help !== undefined && help !== existing.help ? `has the help text ${JSON.stringify(existing.help)}`
        : null;
      if (clash) throw new MetricError(`${call}: the metric ${JSON.stringify(name)} already ${clash} (${existing.where}); one name is one metric on /metrics, with one type and one set of labels: give this one another name`);
      if (existing.help === undefined && help !== undefined) {
        existing.help = help;
        (existing.metric as unknown as { help: string }).help = help;
      }
      return existing;
    }
    const options = { name, help: help ?? `${name}: a user ${kind} (${where})`, labelNames: [...OPERATOR_LABELS, ...labels], registers: [this.registry] };
    const metric = kind === 'counter' ? new client.Counter(options)
      : kind === 'gauge' ? new client.Gauge(options)
      : new client.Histogram({ ...options, ...(buckets ? { buckets: [...buckets] } : {}) });
    const family: Family = { name, kind, labels: sortedLabels, help, buckets: bucketText, where, metric };
    this.families.set(name, family);
    return family;
  }

  /** Turns a call's label values into the full labels of its series (checked against the declared labels), remembering the series for its task. */
  private seriesOf(family: Family, operator: OperatorLabels, where: string): (values: object | undefined) => Record<string, string | number> {
    const written = this.series.get(operator.task) ?? new Map<string, { family: Family; labels: Record<string, string | number> }>();
    this.series.set(operator.task, written);
    const base: Record<string, string | number> = { ...operator };
    if (family.labels.length === 0) {
      written.set(JSON.stringify([family.name, base]), { family, labels: base });
      return (values) => {
        if (values !== undefined && Object.keys(values).length > 0) throw new MetricError(`${family.kind} ${JSON.stringify(family.name)} in ${where} has no labels of its own, but was given ${JSON.stringify(values)}`);
        return base;
      };
    }
    const known = new Map<string, Record<string, string | number>>();
    return (values) => {
      const given = (values ?? {}) as Record<string, unknown>;
      const keys = Object.keys(given);
      if (keys.length !== family.labels.length || !family.labels.every((l) => typeof given[l] === 'string' || typeof given[l] === 'number')) {
        throw new MetricError(`${family.kind} ${JSON.stringify(family.name)} in ${where} has the labels [${family.labels.join(', ')}]: every call gives a string or number for each of them, and no others (got ${JSON.stringify(values ?? {})})`);
      }
      const id = family.labels.map((l) => String(given[l])).join('\u0000');
      let labels = known.get(id);
      if (!labels) {
        labels = { ...base };
        for (const l of family.labels) labels[l] = given[l] as string | number;
        known.set(id, labels);
        written.set(JSON.stringify([family.name, labels]), { family, labels });
      }
      return labels;
    };
  }
}

/** `(labels, n)` or `(n)`: the label values and the number. */
function split(a: object | number | undefined, b: number | undefined): [object | undefined, number | undefined] {
  return typeof a === 'object' && a !== null ? [a, b] : [undefined, a as number | undefined];
}
