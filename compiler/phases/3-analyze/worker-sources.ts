/**
 * A stage that stage workers cannot run: one that reads Kafka (a kafka.source,
 * or records from another stage over a repartition topic) and also has a
 * source that is not Kafka (a file, a collection, a generator). A worker reads
 * Kafka through its consumer group and cannot also replay a bounded source per
 * partition, so such a stage runs in local.mjs only: warned at build time
 * (PC2002), instead of a worker refusing to start.
 *
 * In: the plan and the physical plan's stages. Out: diagnostics, one per such source.
 */
import type ts from '../../typescript.ts';
import { diagnostics, NO_LOCATION, type Diagnostic } from '../../diagnostics/index.ts';
import { locationOfNode } from '../../diagnostics/location.ts';
import { connectorOf, type LogicalNode, type LogicalPlan } from '../../ir/logical-plan.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';
import type { Host } from '../../host.ts';

/** PC2002 for each non-Kafka source in a stage whose workers read Kafka. */
export function checkWorkerSources(plan: LogicalPlan, physical: PhysicalPlan, host: Host, callOf: (node: LogicalNode) => ts.CallExpression | null): Diagnostic[] {
  const found: Diagnostic[] = [];
  for (const stage of physical.stages) {
    const isWorker = stage.inputs.length + stage.outputs.length > 0;
    const sources = stage.sources.map((id) => plan.nodes[id]);
    const readsKafka = stage.inputs.length > 0 || sources.some((s) => connectorOf(s) === 'kafka');
    if (!isWorker || !readsKafka) continue;
    for (const source of sources.filter((s) => connectorOf(s) !== 'kafka')) {
      const call = callOf(source);
      found.push(diagnostics.mixedWorkerSources(call ? locationOfNode(host, call.arguments[0] ?? call) : NO_LOCATION, { source: source.label, stage: String(stage.id) }));
    }
  }
  return found;
}
