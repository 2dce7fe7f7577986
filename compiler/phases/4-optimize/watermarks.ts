/**
 * Which watermark origins feed each event-time operator and each outgoing
 * edge of a stage. An origin is an assignTimestamps node (`ts:<id>`), a source
 * (`source:<id>`: no timestamps, so -∞ until it ends), an asyncMap
 * (`async:<id>`: the watermark it receives, held back behind its calls in
 * flight) or an input edge (`edge:<id>`). assignTimestamps replaces whatever
 * watermarks came before it; an asyncMap both receives them (an event-time
 * consumer) and starts its own.
 */
import type { LogicalPlan } from '../../ir/logical-plan.ts';
import type { StageEdge, WatermarkTopology } from '../../ir/physical-plan.ts';
import { traitsOf } from '../../../runtime/api/node-traits.ts';


/** The watermark topology of the stage holding `nodes`. */
export function watermarkTopology(plan: LogicalPlan, nodes: number[], edges: StageEdge[], stageId: number): WatermarkTopology {
  const inStage = new Set(nodes);
  const memo = new Map<number, string[]>();
  /** Origins of the stream a node produces. */
  const producedBy = (id: number): string[] => {
    const node = plan.nodes[id];
    if (node.kind === 'assignTimestamps') return [`ts:${id}`];
    if (node.kind === 'source') return [`source:${id}`];
    if (node.kind === 'asyncMap') return [`async:${id}`];
    return receivedBy(id);
  };
  /** Origins of the streams a node receives. */
  const receivedBy = (id: number): string[] => {
    const cached = memo.get(id);
    if (cached) return cached;
    const result = new Set<string>();
    for (const input of plan.nodes[id].inputs) {
      if (inStage.has(input)) for (const o of producedBy(input)) result.add(o);
      else for (const e of edges.filter((x) => x.toStage === stageId && x.toNode === id && x.fromNode === input)) result.add(`edge:${e.id}`);
    }
    const list = [...result].sort();
    memo.set(id, list);
    return list;
  };
  const origins = new Set<string>();
  for (const id of nodes) {
    const node = plan.nodes[id];
    if (node.kind === 'assignTimestamps') origins.add(`ts:${id}`);
    if (node.kind === 'source') origins.add(`source:${id}`);
    if (node.kind === 'asyncMap') origins.add(`async:${id}`);
  }
  for (const e of edges) if (e.toStage === stageId) origins.add(`edge:${e.id}`);
  return {
    origins: [...origins].sort(),
    consumers: nodes.filter((id) => traitsOf(plan.nodes[id].kind).eventTime).sort((a, b) => a - b).map((node) => ({ node, origins: receivedBy(node) })),
    outputs: edges.filter((e) => e.fromStage === stageId).map((e) => ({ edge: e.id, origins: producedBy(e.fromNode) })),
  };
}
