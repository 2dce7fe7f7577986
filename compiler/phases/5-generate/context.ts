/**
 * The state of generating one stage module, shared by the per-operator
 * emitters: hoisted declarations, connector imports, the continuation
 * functions still to write, and how a branch skips a record.
 */
import type { Analysis } from '../../ir/analysis.ts';
import type { LogicalNode, LogicalNodeOf, LogicalPlan } from '../../ir/logical-plan.ts';
import type { NodeKind } from '../../../runtime/api/graph.ts';
import type { PhysicalPlan, Stage, StageEdge } from '../../ir/physical-plan.ts';
import { CodeWriter } from './writer.ts';
import { siteLabel as siteLabelOf } from './inline.ts';

/** Every identifier and label of the pipeline's inlined user functions. */
function userNamesOf(analysis: Analysis): Set<string> {
  const names = new Set<string>();
  for (const fp of Object.values(analysis.functions)) for (const name of fp.inline?.identifiers ?? []) names.add(name);
  return names;
}

/** How the current code path drops the current record: `return`, `continue` or `break label`. */
export interface Skip { statement(): string }

/** A skip that leaves a labeled block and remembers whether it was used. */
export class LabelSkip implements Skip {
  used = false;
  constructor(readonly label: string) {}
  statement(): string { this.used = true; return `break ${this.label};`; }
}

/** Where the emitter is: the writer, the record variable, the timestamp variable and the skip. */
export interface EmitContext {
  w: CodeWriter; input: string; ts: string; skip: Skip;
  /** The key variable, in code reached over a hash edge. */
  key?: string;
  /** Which input of a two-input node the record arrives on. */
  inputIndex?: number;
}

/** Emits the code of one node of the kinds K given its input (`node.spec` typed by kind; a method, so an emitter of more kinds may serve fewer). */
export type NodeEmitter<K extends NodeKind = NodeKind> = { emit(node: LogicalNodeOf<K>, ctx: EmitContext, gen: StageGen): void }['emit'];

/** Per-stage generation state. */
export class StageGen {
  readonly hoisted = new CodeWriter();
  readonly functions = new CodeWriter();
  readonly imports = new Map<string, Set<string>>();
  readonly inputs: Array<{ edge: StageEdge; w: CodeWriter }> = [];
  /** Awaited before the first record: the user functions' open(ctx). */
  readonly open = new CodeWriter();
  readonly finish = new CodeWriter();
  /** At the end, synchronously, first: fire what is still due (processing-time windows). */
  readonly endOfInput = new CodeWriter();
  /** At the end, after endOfInput: await the asyncMaps' calls still in flight (some may come from what endOfInput fired). */
  readonly drain = new CodeWriter();
  /** At the end, after endOfInput and drain: await the user functions' close(). */
  readonly close = new CodeWriter();
  private readonly declared = new Set<string>();
  private readonly registered = new Set<number>();
  private readonly pendingHeads: number[] = [];
  private readonly pendingInputs: Array<[number, number]> = [];
  private readonly inputHeads = new Set<string>();
  private readonly heads = new Set<number>();
  readonly consumers = new Map<number, number[]>();
  private readonly edgesFrom = new Map<number, StageEdge[]>();
  /** Every identifier of every inlined user function of the pipeline: no generated name is one of them. */
  private readonly userNames: Set<string>;

  constructor(readonly plan: LogicalPlan, readonly physical: PhysicalPlan, readonly analysis: Analysis, readonly stage: Stage, readonly emitters: { [K in NodeKind]?: NodeEmitter<K> }) {
    for (const node of plan.nodes) for (const input of node.inputs) this.consumers.set(input, [...(this.consumers.get(input) ?? []), node.id]);
    for (const edge of physical.edges) this.edgesFrom.set(edge.fromNode, [...(this.edgesFrom.get(edge.fromNode) ?? []), edge]);
    this.userNames = userNamesOf(analysis);
  }

  /**
   * The generated name for `raw` (`v3`, `value`, `emit4`): `raw` itself, or with
   * `$` appended until it is no identifier of inlined user code. Generated code
   * and user code never share a name, so neither can capture or shadow the
   * other. (`env`, `rt` and callback parameters such as `wm` need no renaming:
   * they are never named inside a block that holds user code.)
   */
  name(raw: string): string {
    let name = raw;
    while (this.userNames.has(name)) name += '$';
    return name;
  }

  /** The edges that leave the stage from node `id`. */
  edgesFromNode(id: number): StageEdge[] {
    return this.edgesFrom.get(id) ?? [];
  }

  node(id: number): LogicalNode { return this.plan.nodes[id]; }
  inStage(id: number): boolean { return this.stage.nodes.includes(id); }

  /** Adds `import { name } from module` once. */
  importFrom(module: string, name: string): void {
    this.imports.set(module, (this.imports.get(module) ?? new Set()).add(name));
  }

  /** Declares a constant once at the top of create(). */
  declare(raw: string, expression: string, comment?: string): string {
    const name = this.name(raw);
    if (!this.declared.has(name)) {
      this.declared.add(name);
      if (comment) this.hoisted.line(`// ${comment}`);
      this.hoisted.line(`const ${name} = ${expression};`);
    }
    return name;
  }

  /** True the first time it is asked for a node: for set-up written once however many paths reach the node. */
  registerOnce(nodeId: number): boolean {
    if (this.registered.has(nodeId)) return false;
    this.registered.add(nodeId);
    return true;
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
    return this.name(`emit${nodeId}`);
  }

  /** The entry function `input<N>_<i>(value, ts)` of input i of a two-input node reached inside the stage. */
  inputHead(nodeId: number, index: number): string {
    const name = this.name(`input${nodeId}_${index}`);
    if (!this.inputHeads.has(name)) { this.inputHeads.add(name); this.pendingInputs.push([nodeId, index]); }
    return name;
  }

  /** `{ tag: emitN, ... }` for the getSideOutput streams that read node `id`'s side outputs (`copying`: each through rt.copying). */
  sideRoutes(id: number, copying = false): string {
    const routes = (this.consumers.get(id) ?? []).map((c) => this.node(c)).filter((c) => c.kind === 'sideOutput')
      .map((s) => `${JSON.stringify(s.kind === 'sideOutput' ? s.spec.tag : '')}: ${copying ? `rt.copying(${this.head(s.id)})` : this.head(s.id)}`);
    return `{ ${routes.join(', ')} }`;
  }

  /** The collector a process function emits through: the continuation of the chain, handed a copy of each record (rt.copying). */
  processCollector(id: number): string {
    return `rt.copying(${this.head(id)})`;
  }

  /** Writes queued continuation functions until none is left. */
  drainHeads(): void {
    while (this.pendingInputs.length || this.pendingHeads.length) this.drainOnce();
  }

  private drainOnce(): void {
    while (this.pendingInputs.length) {
      const [id, index] = this.pendingInputs.shift()!;
      const w = this.functions;
      if (!w.empty) w.line();
      w.line(`// input ${index + 1} of ${this.node(id).label}`);
      const [value, ts] = [this.name('value'), this.name('ts')];
      w.block(`function ${this.name(`input${id}_${index}`)}(${value}: any, ${ts}: number | undefined): void {`, () => {
        this.writeNode(id, { w, input: value, ts, inputIndex: index, skip: { statement: () => 'return;' } });
      });
    }
    while (this.pendingHeads.length) {
      const id = this.pendingHeads.shift()!;
      const w = this.functions;
      if (!w.empty) w.line();
      w.line(`// after ${this.node(id).label}`);
      const [v, ts] = [this.name(`v${id}`), this.name('ts')];
      w.block(`function ${this.name(`emit${id}`)}(${v}: any, ${ts}: number | undefined): void {`, () => {
        this.writeConsumers(id, { w, input: v, ts, skip: { statement: () => 'return;' } });
      });
    }
  }

  /** Writes the code for one node reached with `ctx.input`. */
  writeNode(id: number, ctx: EmitContext): void {
    const node = this.node(id);
    const emitter = this.emitters[node.kind] as NodeEmitter | undefined;
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
        if (node.inputs.length === 1) branches.push((c) => this.writeNode(consumer, c));
        else if (node.kind === 'union') branches.push((c) => c.w.line(`${this.head(consumer)}(${c.input}, ${c.ts});`));
        else branches.push((c) => c.w.line(`${this.inputHead(consumer, node.inputs.indexOf(id))}(${c.input}, ${c.ts});`));
      } else {
        for (const edge of this.edgesFromNode(id).filter((e) => e.toNode === consumer)) {
          branches.push((c) => c.w.line(`${this.output(edge)}.collect(undefined, ${c.input}, ${c.ts});`));
        }
      }
    }
    if (branches.length === 1) { branches[0](ctx); return; }
    branches.forEach((branch, index) => {
      const skip = new LabelSkip(this.name(`branch${id}_${index}`));
      const inner = new CodeWriter();
      branch({ ...ctx, w: inner, skip });
      if (skip.used) ctx.w.block(`${skip.label}: {`, () => ctx.w.append(inner));
      else ctx.w.append(inner);
    });
  }
}
