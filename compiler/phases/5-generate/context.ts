/**
 * The state of generating one stage module, shared by the per-operator
 * emitters: hoisted declarations, connector imports, the continuation
 * functions still to write, and how a branch skips a record.
 */
import type { Analysis } from '../../ir/analysis.ts';
import type { LogicalNode, LogicalPlan } from '../../ir/logical-plan.ts';
import type { PhysicalPlan, Stage, StageEdge } from '../../ir/physical-plan.ts';
import { CodeWriter } from './writer.ts';
import { siteLabel as siteLabelOf } from './inline.ts';

/** How the current code path drops the current record: `return`, `continue` or `break label`. */
export interface Skip { statement(): string }

/** A skip that leaves a labeled block and remembers whether it was used. */
export class LabelSkip implements Skip {
  used = false;
  constructor(readonly label: string) {}
  statement(): string { this.used = true; return `break ${this.label};`; }
}

/** Where the emitter is: the writer, the record variable, the timestamp variable and the skip. */
export interface EmitContext { w: CodeWriter; input: string; ts: string; skip: Skip; key?: string }

/** Emits the code of one node given its input. */
export type NodeEmitter = (node: LogicalNode, ctx: EmitContext, gen: StageGen) => void;

/** Per-stage generation state. */
export class StageGen {
  readonly hoisted = new CodeWriter();
  readonly functions = new CodeWriter();
  readonly imports = new Map<string, Set<string>>();
  readonly inputs: Array<{ edge: StageEdge; w: CodeWriter }> = [];
  readonly finish = new CodeWriter();
  private readonly declared = new Set<string>();
  /** Process nodes whose open()/close() calls are written. */
  readonly hoistedOpen = new Set<number>();
  private readonly pendingHeads: number[] = [];
  private readonly heads = new Set<number>();
  readonly consumers = new Map<number, number[]>();

  constructor(readonly plan: LogicalPlan, readonly physical: PhysicalPlan, readonly analysis: Analysis, readonly stage: Stage, readonly emitters: Partial<Record<string, NodeEmitter>>) {
    for (const node of plan.nodes) for (const input of node.inputs) this.consumers.set(input, [...(this.consumers.get(input) ?? []), node.id]);
  }

  node(id: number): LogicalNode { return this.plan.nodes[id]; }
  inStage(id: number): boolean { return this.stage.nodes.includes(id); }

  /** Adds `import { name } from module` once. */
  importFrom(module: string, name: string): void {
    this.imports.set(module, (this.imports.get(module) ?? new Set()).add(name));
  }

  /** Declares a constant once at the top of create(). */
  declare(name: string, expression: string, comment?: string): string {
    if (!this.declared.has(name)) {
      this.declared.add(name);
      if (comment) this.hoisted.line(`// ${comment}`);
      this.hoisted.line(`const ${name} = ${expression};`);
    }
    return name;
  }

  /** The user function of a node, called by reference. */
  reference(nodeId: number): string {
    const node = this.node(nodeId);
    return this.declare(`fn${nodeId}`, `env.fn<any>(${nodeId})`, `${node.label} (${siteLabelOf(node.site)}): your function, called by reference`);
  }

  /** The collector of a cut edge. */
  output(edge: StageEdge): string {
    return this.declare(`out${edge.toNode}${edge.inputIndex ? `_${edge.inputIndex}` : ''}`, `env.output(${JSON.stringify(edge.id)})`, `to stage ${edge.toStage} (${edge.partitioning} partitioning)`);
  }

  /** The continuation function `emitN(vN, ts)` that runs everything after node N; written once. */
  head(nodeId: number): string {
    if (!this.heads.has(nodeId)) { this.heads.add(nodeId); this.pendingHeads.push(nodeId); }
    return `emit${nodeId}`;
  }

  /** Writes queued continuation functions until none is left. */
  drainHeads(): void {
    while (this.pendingHeads.length) {
      const id = this.pendingHeads.shift()!;
      const w = this.functions;
      if (!w.empty) w.line();
      w.line(`// after ${this.node(id).label}`);
      w.block(`function emit${id}(v${id}: any, ts: number | undefined): void {`, () => {
        this.writeConsumers(id, { w, input: `v${id}`, ts: 'ts', skip: { statement: () => 'return;' } });
      });
    }
  }

  /** Writes the code for one node reached with `ctx.input`. */
  writeNode(id: number, ctx: EmitContext): void {
    const node = this.node(id);
    const emitter = this.emitters[node.kind];
    if (!emitter) throw new Error(`internal: no code generator for ${node.kind}`);
    emitter(node, ctx, this);
  }

  /** Writes everything downstream of node `id`: chained consumers inline, cut edges as collects; several branches each in their own block. */
  writeConsumers(id: number, ctx: EmitContext): void {
    const branches: Array<(c: EmitContext) => void> = [];
    for (const consumer of this.consumers.get(id) ?? []) {
      const node = this.node(consumer);
      if (node.kind === 'sideOutput') continue; // reached through ctx.output
      if (this.inStage(consumer)) {
        branches.push((c) => (node.inputs.length > 1 ? c.w.line(`${this.head(consumer)}(${c.input}, ${c.ts});`) : this.writeNode(consumer, c)));
      } else {
        for (const edge of this.physical.edges.filter((e) => e.fromNode === id && e.toNode === consumer)) {
          branches.push((c) => c.w.line(`${this.output(edge)}.collect(undefined, ${c.input}, ${c.ts});`));
        }
      }
    }
    if (branches.length === 1) { branches[0](ctx); return; }
    branches.forEach((branch, index) => {
      const skip = new LabelSkip(`branch${id}_${index}`);
      const inner = new CodeWriter();
      branch({ ...ctx, w: inner, skip });
      if (skip.used) ctx.w.block(`${skip.label}: {`, () => ctx.w.append(inner));
      else ctx.w.append(inner);
    });
  }
}
