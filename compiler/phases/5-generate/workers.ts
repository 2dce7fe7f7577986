/**
 * Which runner a stage's bundle starts: the Kafka stage worker (tasks per
 * input partition, checkpoints, exactly-once, /metrics and /healthz) for a
 * stage with edges to other stages or whose sources are all Kafka sources,
 * else the single-process runner. Read by the bundle entries and by the
 * deployment files, which must agree.
 */
import type { LogicalPlan } from '../../ir/logical-plan.ts';

export function runsKafkaWorker(plan: LogicalPlan, stage: { nodes: number[]; inputs: string[]; outputs: string[] }): boolean {
  if (stage.inputs.length || stage.outputs.length) return true;
  const sources = stage.nodes.map((n) => plan.nodes[n]).filter((n) => n.kind === 'source');
  return sources.length > 0 && sources.every((n) => n.kind === 'source' && n.spec.connector === 'kafka');
}
