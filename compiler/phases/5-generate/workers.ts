/**
 * Which runner a stage's bundle starts: the Kafka stage worker (tasks per
 * input partition, checkpoints, exactly-once, /metrics and /healthz) for a
 * stage with edges to other stages or whose sources are all Kafka sources,
 * else the single-process runner. Read by the bundle entries and by the
 * deployment files, which must agree.
 */
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';
import type { LogicalPlan } from '../../ir/logical-plan.ts';

export function runsKafkaWorker(plan: LogicalPlan, stage: { nodes: number[]; inputs: string[]; outputs: string[] }): boolean {
  if (stage.inputs.length || stage.outputs.length) return true;
  const sources = stage.nodes.map((n) => plan.nodes[n]).filter((n) => n.kind === 'source');
  return sources.length > 0 && sources.every((n) => n.kind === 'source' && n.spec.connector === 'kafka');
}

/**
 * What each sink of a streaming job guarantees after a failure, from its
 * connector's definition: sinks that take part in checkpoints (Kafka sinks
 * commit with their task's checkpoint, file sinks publish what a committed
 * checkpoint covers, mysql.insert commits the XA transaction a checkpoint
 * prepared) get the pipeline's guarantee, exactly-once by default; sinks
 * whose writes are idempotent overwrites (mysql.upsert, redis.set/hset)
 * write replayed records again with the same values, so their end state is
 * exactly-once; others (print) cannot take back what they wrote, so records
 * since the last checkpoint may be written again (at-least-once). Empty for
 * batch jobs, which rerun from their input.
 */
export function sinkGuarantees(plan: LogicalPlan): Array<{ sink: string; guarantee: 'exactly-once' | 'at-least-once' | 'idempotent (end state exactly-once)' }> {
  if (plan.mode !== 'streaming') return [];
  return plan.nodes.flatMap((n) => {
    if (n.kind !== 'sink') return [];
    const kind = connectorDefinition(n.spec.connector)?.sinkGuarantee?.[n.spec.connector];
    return [{ sink: n.label, guarantee: kind === 'checkpointed' ? plan.guarantee : kind === 'idempotent' ? 'idempotent (end state exactly-once)' as const : 'at-least-once' as const }];
  });
}
