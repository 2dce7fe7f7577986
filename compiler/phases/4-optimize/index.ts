/**
 * Phase 4, optimize: decides each node's parallelism, chains one-to-one
 * operators of equal parallelism (Flink's chaining rule), and cuts the graph
 * into stages at keyBy, rebalance, parallelism changes and wherever joining two
 * inputs would otherwise put a shuffle inside one stage. A pure function of the
 * LogicalPlan, so it is tested on plain data.
 *
 * In: LogicalPlan. Out: PhysicalPlan { stages, edges, parallelism }.
 */
import type { LogicalNode, LogicalPlan } from '../../ir/logical-plan.ts';
import type { Partitioning, PhysicalPlan, Stage, StageEdge } from '../../ir/physical-plan.ts';
import { traitsOf } from '../../../runtime/api/node-traits.ts';
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';
import { watermarkTopology } from './watermarks.ts';


/** The parallelism every node runs at. */
export function assignParallelism(plan: LogicalPlan): Record<number, number> {
  const result: Record<number, number> = {};
  for (const node of plan.nodes) {
    const first = node.inputs.length ? result[node.inputs[0]] : plan.parallelism;
    let p: number;
    if (node.parallelism !== null) p = node.parallelism;
    // Sources read their whole input in one task when their connector says so (files, collections); Kafka's run in parallel.
    else if (node.kind === 'source') p = connectorDefinition(node.spec.connector)?.singleTaskSource ? 1 : plan.parallelism;
    else if (traitsOf(node.kind).followsInput) p = first;
    else if (traitsOf(node.kind).singleInstance) p = 1;
    else p = plan.parallelism;
    result[node.id] = p;
  }
  return result;
}

/** How records go from `from` to `to`: forward edges may be chained, the others are cuts. */
export function partitioningOf(from: LogicalNode, to: LogicalNode, parallelism: Record<number, number>): Partitioning {
  const forced = traitsOf(from.kind).partitions;
  if (forced !== 'forward') return forced;
  if (to.kind === 'sideOutput') return 'forward';
  return parallelism[from.id] === parallelism[to.id] ? 'forward' : 'rebalance';
}

/** Flink's isChainable: a forward edge between equal parallelisms. */
export function isChainable(from: LogicalNode, to: LogicalNode, parallelism: Record<number, number>): boolean {
  return partitioningOf(from, to, parallelism) === 'forward' && from.kind !== 'sink';
}

class UnionFind {
  private readonly parent: number[];
  constructor(size: number) { this.parent = Array.from({ length: size }, (_, i) => i); }
  find(x: number): number { while (this.parent[x] !== x) x = this.parent[x] = this.parent[this.parent[x]]; return x; }
  union(a: number, b: number): void { const ra = this.find(a), rb = this.find(b); if (ra !== rb) this.parent[Math.max(ra, rb)] = Math.min(ra, rb); }
}

/** Groups nodes into stages; a forward edge that would close a cycle through a shuffle stays a cut. */
function groupStages(plan: LogicalPlan, parallelism: Record<number, number>): { groups: UnionFind; cutForward: Set<string> } {
  const cutForward = new Set<string>();
  for (;;) {
    const groups = new UnionFind(plan.nodes.length);
    for (const node of plan.nodes) {
      for (const input of node.inputs) {
        if (isChainable(plan.nodes[input], node, parallelism) && !cutForward.has(`${input}->${node.id}`)) groups.union(input, node.id);
      }
    }
    // A shuffle whose ends are in one group would run inside one stage: cut the
    // joining node's forward edge from its most upstream input (smallest id, as
    // ids are a topological order), so the join runs after the shuffle, and regroup.
    const bad = plan.nodes.flatMap((node) => node.inputs
      .filter((input) => !isChainable(plan.nodes[input], node, parallelism) && groups.find(input) === groups.find(node.id))
      .map((input) => ({ input, node })));
    // Likewise a join that chains to inputs on both sides of a shuffle (a union of a stream with its own
    // keyed aggregate) would make stages feed each other in a circle: cut it the same way.
    const circular = bad.length === 0 ? groupsOnCycles(plan, groups) : new Set<number>();
    if (bad.length === 0 && circular.size === 0) return { groups, cutForward };
    const canCut = (n: LogicalNode) => n.inputs.length > 1 && n.inputs.some((i) => isChainable(plan.nodes[i], n, parallelism) && !cutForward.has(`${i}->${n.id}`));
    const joiner = bad.length > 0
      ? plan.nodes.find((n) => canCut(n) && groups.find(n.id) === groups.find(bad[0].node.id))
      : plan.nodes.find((n) => canCut(n) && circular.has(groups.find(n.id)));
    if (!joiner) throw new Error(bad.length > 0 ? `internal: cannot place ${bad[0].input}->${bad[0].node.id} between stages` : 'internal: the stage graph has a cycle');
    const last = [...joiner.inputs].sort((a, b) => a - b).find((i) => isChainable(plan.nodes[i], joiner, parallelism) && !cutForward.has(`${i}->${joiner.id}`))!;
    cutForward.add(`${last}->${joiner.id}`);
  }
}

/** The groups that lie on (or after) a cycle of the group graph: what Kahn's algorithm cannot order. */
function groupsOnCycles(plan: LogicalPlan, groups: UnionFind): Set<number> {
  const downstream = new Map<number, Set<number>>();
  const incoming = new Map<number, number>();
  for (const node of plan.nodes) incoming.set(groups.find(node.id), incoming.get(groups.find(node.id)) ?? 0);
  for (const node of plan.nodes) for (const input of node.inputs) {
    const from = groups.find(input), to = groups.find(node.id);
    if (from === to || downstream.get(from)?.has(to)) continue;
    downstream.set(from, (downstream.get(from) ?? new Set()).add(to));
    incoming.set(to, incoming.get(to)! + 1);
  }
  const ready = [...incoming].filter(([, n]) => n === 0).map(([g]) => g);
  while (ready.length) {
    const g = ready.pop()!;
    incoming.delete(g);
    for (const next of downstream.get(g) ?? []) {
      const left = incoming.get(next)! - 1;
      incoming.set(next, left);
      if (left === 0) ready.push(next);
    }
  }
  return new Set(incoming.keys());
}

/** Maximal runs of chained nodes with one input and one consumer each; a chain ends at an asynchronous operator. */
function chainsOf(nodes: number[], plan: LogicalPlan, consumers: Map<number, number[]>, sameStage: (a: number, b: number) => boolean): number[][] {
  const chains: number[][] = [];
  const inChain = new Set<number>();
  const linksTo = (a: number): number | null => {
    const next = consumers.get(a) ?? [];
    if (next.length !== 1 || !sameStage(a, next[0]) || plan.nodes[next[0]].inputs.length !== 1) return null;
    // An asynchronous operator (asyncMap) emits later, from its calls' completions: what follows it is a chain of its own.
    const traits = traitsOf(plan.nodes[a].kind);
    return traits.partitions !== 'forward' || traits.asynchronous ? null : next[0];
  };
  const hasChainedPredecessor = new Set<number>();
  for (const n of nodes) { const next = linksTo(n); if (next !== null) hasChainedPredecessor.add(next); }
  for (const n of nodes) {
    if (inChain.has(n) || hasChainedPredecessor.has(n)) continue;
    const chain = [n];
    for (let next = linksTo(n); next !== null; next = linksTo(next)) chain.push(next);
    chain.forEach((c) => inChain.add(c));
    chains.push(chain);
  }
  return chains;
}

/** Builds the physical plan. */
export function optimize(plan: LogicalPlan): PhysicalPlan {
  const parallelism = assignParallelism(plan);
  const { groups, cutForward } = groupStages(plan, parallelism);
  const consumers = new Map<number, number[]>();
  for (const node of plan.nodes) for (const input of node.inputs) consumers.set(input, [...(consumers.get(input) ?? []), node.id]);

  // Number stages in topological order of the stage graph, ties broken by smallest node id.
  const members = new Map<number, number[]>();
  for (const node of plan.nodes) members.set(groups.find(node.id), [...(members.get(groups.find(node.id)) ?? []), node.id]);
  const upstreamGroups = new Map<number, Set<number>>();
  for (const node of plan.nodes) for (const input of node.inputs) {
    const from = groups.find(input), to = groups.find(node.id);
    if (from !== to) upstreamGroups.set(to, (upstreamGroups.get(to) ?? new Set()).add(from));
  }
  const order: number[] = [];
  const placed = new Set<number>();
  while (order.length < members.size) {
    const ready = [...members.keys()].filter((g) => !placed.has(g) && [...(upstreamGroups.get(g) ?? [])].every((u) => placed.has(u))).sort((a, b) => a - b);
    if (ready.length === 0) throw new Error('internal: the stage graph has a cycle');
    placed.add(ready[0]);
    order.push(ready[0]);
  }
  const stageOf = new Map(order.map((group, index) => [group, index]));
  const stageOfNode = (id: number) => stageOf.get(groups.find(id))!;

  const edges: StageEdge[] = [];
  for (const node of plan.nodes) {
    const cutInputs = node.inputs.map((input, index) => ({ input, index })).filter(({ input }) => stageOfNode(input) !== stageOfNode(node.id));
    for (const { input, index } of cutInputs) {
      const from = plan.nodes[input];
      const partitioning: Partitioning = cutForward.has(`${input}->${node.id}`) ? 'forward' : partitioningOf(from, node, parallelism);
      edges.push({
        id: cutInputs.length > 1 ? `${node.kind}-${node.id}-in${index}` : `${node.kind}-${node.id}`,
        fromStage: stageOfNode(input), fromNode: input, toStage: stageOfNode(node.id), toNode: node.id,
        partitioning, keyNode: partitioning === 'hash' ? input : null, inputIndex: index,
      });
    }
  }

  const stages: Stage[] = order.map((group, id) => {
    const nodes = members.get(group)!;
    const stageParallelism = Math.max(...nodes.filter((n) => traitsOf(plan.nodes[n].kind).partitions === 'forward').map((n) => parallelism[n]).concat(parallelism[nodes[0]]));
    return {
      id,
      parallelism: stageParallelism,
      nodes,
      sources: nodes.filter((n) => plan.nodes[n].kind === 'source'),
      inputs: edges.filter((e) => e.toStage === id).map((e) => e.id),
      outputs: edges.filter((e) => e.fromStage === id).map((e) => e.id),
      chains: chainsOf(nodes, plan, consumers, (a, b) => stageOfNode(a) === stageOfNode(b)),
      watermarks: watermarkTopology(plan, nodes, edges, id),
    };
  });
  return { stages, edges, parallelism };
}
