/**
 * Renders a physical plan as Mermaid or DOT text: one box per stage, fused
 * chains drawn with thick edges, cut edges labelled with their partitioning;
 * each operator shows its label (with its `.name(...)`) and, when the user set
 * one or the operator keeps state, its uid. The text form (golden plans) names
 * the uids users set.
 */
import type { LogicalPlan } from './ir/logical-plan.ts';
import type { PhysicalPlan } from './ir/physical-plan.ts';
import { traitsOf } from '../runtime/api/node-traits.ts';

function fusedEdges(physical: PhysicalPlan): Set<string> {
  const fused = new Set<string>();
  for (const stage of physical.stages) for (const chain of stage.chains) for (let i = 1; i < chain.length; i++) fused.add(`${chain[i - 1]}->${chain[i]}`);
  return fused;
}

const quote = (text: string) => text.replace(/"/g, "'");

/**
 * What a drawn box says about a node: its label (with its `.name(...)`), and
 * its uid when the user set one or its state is kept under it (stateful
 * operators), on a second line.
 */
function boxText(plan: LogicalPlan, id: number, lineBreak: string): string {
  const node = plan.nodes[id];
  const showUid = node.uidFromUser || traitsOf(node.kind).stateful;
  return quote(showUid ? `${node.label}${lineBreak}uid: ${node.uid}` : node.label);
}

/** Mermaid flowchart text. */
export function toMermaid(plan: LogicalPlan, physical: PhysicalPlan): string {
  const fused = fusedEdges(physical);
  const lines = ['flowchart LR'];
  for (const stage of physical.stages) {
    lines.push(`  subgraph stage${stage.id}["stage ${stage.id} · parallelism ${stage.parallelism}"]`);
    for (const id of stage.nodes) lines.push(`    n${id}["${boxText(plan, id, '<br/>')}"]`);
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
    for (const id of stage.nodes) lines.push(`    n${id} [label="${boxText(plan, id, '\\n')}"];`);
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
    for (const chain of stage.chains) lines.push(`  chain: ${chain.map((id) => `${plan.nodes[id].label}#${id}${plan.nodes[id].uidFromUser ? ` [uid ${plan.nodes[id].uid}]` : ''}${plan.nodes[id].site ? ` @${plan.nodes[id].site!.line}` : ''}`).join(' -> ')}`);
    for (const e of physical.edges.filter((x) => x.toStage === stage.id)) lines.push(`  input ${e.id}: ${e.partitioning} from stage ${e.fromStage}${e.keyNode !== null ? ` (key: node ${e.keyNode})` : ''}`);
  }
  return lines.join('\n') + '\n';
}
