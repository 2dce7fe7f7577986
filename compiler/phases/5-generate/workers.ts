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

/**
 * What each sink of a streaming job guarantees after a failure: Kafka sinks
 * commit with their task's checkpoint, and file sinks publish what a
 * committed checkpoint covers and repair their target on restart (both: the
 * pipeline's guarantee, exactly-once by default); print cannot take back what
 * it wrote, so records since the last checkpoint may be printed again
 * (at-least-once). Empty for batch jobs, which rerun from their input.
 */
export function sinkGuarantees(plan: LogicalPlan): Array<{ sink: string; guarantee: 'exactly-once' | 'at-least-once' }> {
  if (plan.mode !== 'streaming') return [];
  return plan.nodes.filter((n) => n.kind === 'sink').map((n) => ({
    sink: n.label,
    guarantee: n.kind === 'sink' && (n.spec.connector === 'kafka' || n.spec.connector === 'file') ? plan.guarantee : 'at-least-once',
  }));
}
