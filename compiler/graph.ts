/**
 * Renders a physical plan as Mermaid or DOT text: one box per stage, fused
 * chains drawn with thick edges, cut edges labelled with their partitioning.
 */
import type { LogicalPlan } from './ir/logical-plan.ts';
import type { PhysicalPlan } from './ir/physical-plan.ts';

function fusedEdges(physical: PhysicalPlan): Set<string> {
  const fused = new Set<string>();
  for (const stage of physical.stages) for (const chain of stage.chains) for (let i = 1; i < chain.length; i++) fused.add(`${chain[i - 1]}->${chain[i]}`);
  return fused;
}

const quote = (text: string) => text.replace(/"/g, "'");

/** Mermaid flowchart text. */
export function toMermaid(plan: LogicalPlan, physical: PhysicalPlan): string {
  const fused = fusedEdges(physical);
  const lines = ['flowchart LR'];
  for (const stage of physical.stages) {
    lines.push(`  subgraph stage${stage.id}["stage ${stage.id} · parallelism ${stage.parallelism}"]`);
    for (const id of stage.nodes) lines.push(`    n${id}["${quote(plan.nodes[id].label)}"]`);
    lines.push('  end');
  }
  for (const node of plan.nodes) for (const input of node.inputs) {
    const edge = physical.edges.find((e) => e.fromNode === input && e.toNode === node.id);
    if (edge) lines.push(`  n${input} -- ${edge.partitioning} --> n${node.id}`);
    else lines.push(`  n${input} ${fused.has(`${input}->${node.id}`) ? '==>' : '-->'} n${node.id}`);
  }
  return lines.join('\n') + '\n';
}

/** Graphviz DOT text. */
export function toDot(plan: LogicalPlan, physical: PhysicalPlan): string {
  const fused = fusedEdges(physical);
  const lines = [`digraph "${plan.pipeline}" {`, '  rankdir=LR;', '  node [shape=box, fontname="Helvetica"];'];
  for (const stage of physical.stages) {
    lines.push(`  subgraph cluster_stage${stage.id} {`, `    label="stage ${stage.id} · parallelism ${stage.parallelism}";`);
    for (const id of stage.nodes) lines.push(`    n${id} [label="${quote(plan.nodes[id].label)}"];`);
    lines.push('  }');
  }
  for (const node of plan.nodes) for (const input of node.inputs) {
    const edge = physical.edges.find((e) => e.fromNode === input && e.toNode === node.id);
    if (edge) lines.push(`  n${input} -> n${node.id} [label="${edge.partitioning}", style=dashed];`);
    else lines.push(`  n${input} -> n${node.id}${fused.has(`${input}->${node.id}`) ? ' [penwidth=3, label="fused"]' : ''};`);
  }
  lines.push('}');
  return lines.join('\n') + '\n';
}

/** The plan as text: stages, their chains and the edges between them (golden tests snapshot this). */
export function planText(plan: LogicalPlan, physical: PhysicalPlan): string {
  const lines = [`pipeline ${plan.pipeline} (${plan.file}): ${plan.mode} mode, parallelism ${plan.parallelism}`];
  for (const stage of physical.stages) {
    lines.push(`stage ${stage.id} (parallelism ${stage.parallelism})`);
    for (const chain of stage.chains) lines.push(`  chain: ${chain.map((id) => `${plan.nodes[id].label}#${id}${plan.nodes[id].site ? ` @${plan.nodes[id].site!.line}` : ''}`).join(' -> ')}`);
    for (const e of physical.edges.filter((x) => x.toStage === stage.id)) lines.push(`  input ${e.id}: ${e.partitioning} from stage ${e.fromStage}${e.keyNode !== null ? ` (key: node ${e.keyNode})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
