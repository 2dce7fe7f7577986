/**
 * The Kafka topics a pipeline uses, as `topics.json` next to its bundles and
 * as what `pipec deploy-topics` creates: one list, written by the build and
 * read by the command (or computed by the command from the pipeline file, the
 * same way).
 *
 * In: LogicalPlan and PhysicalPlan. Out: a TopicList. Names are written
 * without PIPEC_TOPIC_PREFIX, which is applied where the topics are created
 * and used, to the topics pipec owns only.
 */
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';

/** Repartition topic of an edge (used by distributed workers). */
export function topicFor(pipeline: string, edgeId: string): string {
  return `${pipeline}-${edgeId}-repartition`;
}

/** The dead-letter topic of a pipeline: where its workers send records they could not decode or process. */
export function deadLetterTopicFor(pipeline: string): string {
  return `${pipeline}-dlq`;
}

/** Why the pipeline uses a topic. */
export type TopicRole = 'repartition' | 'dead-letter' | 'source' | 'sink';

/** One topic of topics.json. */
export interface DeploymentTopic {
  /** The name without PIPEC_TOPIC_PREFIX (which pipec prepends to the topics it owns, never to external ones). */
  topic: string;
  /**
   * Partitions: for a repartition topic, the parallelism of the stage that
   * reads it (deploy-topics grows it to that); otherwise the count a worker
   * creates the topic with when it is missing (a source topic: its stage's
   * parallelism, so each worker gets a partition; the dead-letter topic and
   * sink topics: 1).
   */
  partitions: number;
  role: TopicRole;
  /** The pipeline's own source or sink topic: pipec reads or writes it but does not own it (no prefix; deploy-topics leaves it alone). */
  external: boolean;
}

/** topics.json. */
export interface TopicList {
  pipeline: string;
  topics: DeploymentTopic[];
}

/** The topics of a pipeline: repartition topics in edge order, the dead-letter topic, then the Kafka sources' and sinks' topics. */
export function topicListOf(plan: LogicalPlan, physical: PhysicalPlan): TopicList {
  const topics: DeploymentTopic[] = physical.edges.map((edge) => ({
    topic: topicFor(plan.pipeline, edge.id), partitions: physical.stages[edge.toStage].parallelism, role: 'repartition', external: false,
  }));
  const external: DeploymentTopic[] = [];
  for (const node of plan.nodes) {
    if ((node.kind !== 'source' && node.kind !== 'sink') || node.spec.connector !== 'kafka') continue;
    const topic = String(node.spec.options.topic);
    const role = node.kind;
    if (external.some((t) => t.topic === topic && t.role === role)) continue;
    external.push({ topic, partitions: role === 'source' ? physical.parallelism[node.id] ?? 1 : 1, role, external: true });
  }
  // Stage workers send bad records there, and so does kafka.source in a single-process job.
  if (topics.length > 0 || external.some((t) => t.role === 'source')) topics.push({ topic: deadLetterTopicFor(plan.pipeline), partitions: 1, role: 'dead-letter', external: false });
  const order: TopicRole[] = ['source', 'sink'];
  return { pipeline: plan.pipeline, topics: [...topics, ...external.sort((a, b) => order.indexOf(a.role) - order.indexOf(b.role))] };
}

/** Reads topics.json, or says what is wrong with it. */
export function parseTopicList(text: string): TopicList | { error: string } {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `not JSON: ${(error as Error).message}` };
  }
  const list = value as Partial<TopicList> | null;
  if (typeof list !== 'object' || list === null || typeof list.pipeline !== 'string' || !Array.isArray(list.topics)) {
    return { error: 'expected { "pipeline": string, "topics": [...] } as pipec build writes it' };
  }
  const roles: readonly TopicRole[] = ['repartition', 'dead-letter', 'source', 'sink'];
  for (const [i, t] of list.topics.entries()) {
    const topic = t as Partial<DeploymentTopic> | null;
    if (typeof topic !== 'object' || topic === null || typeof topic.topic !== 'string' || topic.topic === ''
      || !Number.isInteger(topic.partitions) || (topic.partitions as number) < 1
      || !roles.includes(topic.role as TopicRole) || typeof topic.external !== 'boolean') {
      return { error: `topics[${i}]: expected { "topic": string, "partitions": a positive integer, "role": ${roles.map((r) => `"${r}"`).join(' | ')}, "external": boolean }` };
    }
  }
  return list as TopicList;
}
