/**
 * The record types of internal edges. For every node whose output crosses a
 * stage boundary (the optimizer's cut edges: keyBy, rebalance, parallelism
 * changes, joins of differently partitioned inputs), the element type T of the
 * DataStream<T> / KeyedStream<T, K> its DSL call returns becomes a RecordSchema,
 * from which the runtime builds that edge's codec (runtime/internal/codec/).
 * A type that cannot cross a process boundary — a function, a symbol, a
 * Promise, an instance of a class with methods — is PC1120, naming the field
 * and the operator.
 *
 * In: the checker, the LogicalPlan, each node's DSL call. Out: node id →
 * RecordSchema, and diagnostics.
 */
import ts from '../../typescript.ts';
import { diagnostics, type Diagnostic } from '../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../diagnostics/location.ts';
import type { LogicalNode, LogicalPlan } from '../../ir/logical-plan.ts';
import { ANY_SCHEMA, TYPED_ARRAYS, type FieldSchema, type RecordSchema, type TypedArrayName } from '../../../runtime/internal/codec/schema.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';
import type { AnalyzeContext } from './context.ts';

/** Past this nesting a type is described as `any` (the tagged encoding still carries it exactly). */
const MAX_DEPTH = 24;

/** Library types that are values no other process can use. */
const NOT_TRANSFERABLE = new Set(['Promise', 'PromiseLike', 'Function', 'WeakMap', 'WeakSet', 'WeakRef', 'FinalizationRegistry', 'Generator', 'AsyncGenerator', 'Iterator', 'AsyncIterator']);

/** Something in a record type that cannot cross: where, and what it is. */
interface Problem { path: string; what: string }

/** Turns TypeScript types into RecordSchemas, collecting what cannot cross. */
class SchemaBuilder {
  readonly problems: Problem[] = [];
  /** Types being described (for recursive types): the name they get, and whether they referred to themselves. */
  private readonly inProgress = new Map<ts.Type, { name: string; recursive: boolean }>();
  private readonly names = new Set<string>();

  constructor(private readonly checker: ts.TypeChecker, private readonly isUserFile: (file: ts.SourceFile) => boolean) {}

  describe(type: ts.Type, path: string, depth = 0): RecordSchema {
    const flags = type.flags;
    if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never | ts.TypeFlags.NonPrimitive)) return ANY_SCHEMA;
    if (flags & ts.TypeFlags.TypeParameter) {
      const constraint = this.checker.getBaseConstraintOfType(type);
      return constraint && constraint !== type ? this.describe(constraint, path, depth) : ANY_SCHEMA;
    }
    if (flags & (ts.TypeFlags.ESSymbol | ts.TypeFlags.UniqueESSymbol)) return this.problem(path, 'a symbol');
    if (flags & ts.TypeFlags.StringLiteral) return { kind: 'literal', value: (type as ts.StringLiteralType).value };
    if (flags & ts.TypeFlags.NumberLiteral) return { kind: 'literal', value: (type as ts.NumberLiteralType).value };
    if (flags & ts.TypeFlags.BigIntLiteral) {
      const { negative, base10Value } = (type as ts.BigIntLiteralType).value;
      return { kind: 'literal', value: `${negative ? '-' : ''}${base10Value}`, bigint: true };
    }
    if (flags & ts.TypeFlags.BooleanLiteral) return { kind: 'literal', value: (type as unknown as { intrinsicName: string }).intrinsicName === 'true' };
    if (flags & (ts.TypeFlags.String | ts.TypeFlags.TemplateLiteral | ts.TypeFlags.StringMapping)) return { kind: 'string' };
    if (flags & ts.TypeFlags.Number) return { kind: 'number' };
    if (flags & ts.TypeFlags.Boolean) return { kind: 'boolean' };
    if (flags & ts.TypeFlags.BigInt) return { kind: 'bigint' };
    if (flags & ts.TypeFlags.Null) return { kind: 'null' };
    if (flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Void)) return { kind: 'undefined' };
    if (depth > MAX_DEPTH) return ANY_SCHEMA;
    if (type.isUnion()) return this.union(type, path, depth);
    if (type.isIntersection()) {
      // A branded primitive (`string & { __brand: 'Id' }`) is the primitive at run time.
      const primitive = type.types.find((t) => t.flags & (ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BooleanLike | ts.TypeFlags.BigIntLike));
      if (primitive) return this.describe(primitive, path, depth);
    }
    if (flags & ts.TypeFlags.Object || type.isIntersection()) return this.object(type, path, depth);
    return ANY_SCHEMA;
  }

  private problem(path: string, what: string): RecordSchema {
    if (!this.problems.some((p) => p.path === path && p.what === what)) this.problems.push({ path, what });
    return ANY_SCHEMA;
  }

  private union(type: ts.UnionType, path: string, depth: number): RecordSchema {
    const variants = type.types.map((t) => this.describe(t, path, depth + 1));
    // TypeScript spells `boolean` as `true | false`.
    const isTrue = (s: RecordSchema) => s.kind === 'literal' && s.value === true;
    const isFalse = (s: RecordSchema) => s.kind === 'literal' && s.value === false;
    const merged = variants.some(isTrue) && variants.some(isFalse)
      ? [...variants.filter((s) => !isTrue(s) && !isFalse(s)), { kind: 'boolean' } as RecordSchema]
      : variants;
    if (merged.some((s) => s.kind === 'any')) return ANY_SCHEMA;
    return merged.length === 1 ? merged[0] : { kind: 'union', variants: merged };
  }

  private object(type: ts.Type, path: string, depth: number): RecordSchema {
    const checker = this.checker;
    if (type.getCallSignatures().length || type.getConstructSignatures().length) return this.problem(path, 'a function');
    if (checker.isTupleType(type)) {
      const target = (type as ts.TypeReference).target as ts.TupleType;
      const elements = checker.getTypeArguments(type as ts.TypeReference).map((t, i) => this.describe(t, `${path}[${i}]`, depth + 1));
      return target.elementFlags.every((f) => f & ts.ElementFlags.Required) ? { kind: 'tuple', elements } : ANY_SCHEMA;
    }
    if (checker.isArrayType(type)) return { kind: 'array', element: this.describe(checker.getTypeArguments(type as ts.TypeReference)[0], `${path}[]`, depth + 1) };

    const symbol = type.getSymbol() ?? type.aliasSymbol;
    const name = symbol?.getName() ?? '';
    const fromLibrary = !!symbol?.declarations?.length && symbol.declarations.every((d) => !this.isUserFile(d.getSourceFile()));
    if (fromLibrary) {
      const args = (n: number) => { const a = checker.getTypeArguments(type as ts.TypeReference); return a[n] ?? checker.getAnyType(); };
      if (name === 'Date') return { kind: 'date' };
      if (name === 'RegExp') return { kind: 'regexp' };
      if (name === 'Map' || name === 'ReadonlyMap') return { kind: 'map', key: this.describe(args(0), `${path}<key>`, depth + 1), value: this.describe(args(1), `${path}<value>`, depth + 1) };
      if (name === 'Set' || name === 'ReadonlySet') return { kind: 'set', element: this.describe(args(0), `${path}<item>`, depth + 1) };
      if ((TYPED_ARRAYS as readonly string[]).includes(name)) return { kind: 'typedArray', type: name as TypedArrayName };
      if (NOT_TRANSFERABLE.has(name)) return this.problem(path, `a ${name}`);
    }

    const progress = this.inProgress.get(type);
    if (progress) { progress.recursive = true; return { kind: 'ref', name: progress.name }; }
    const entry = { name: this.uniqueName(symbol && !symbol.getName().startsWith('__') ? symbol.getName() : 'Record'), recursive: false };
    this.inProgress.set(type, entry);
    try {
      const schema = this.fields(type, symbol, path, depth);
      return entry.recursive ? { kind: 'recursive', name: entry.name, schema } : schema;
    } finally {
      this.inProgress.delete(type);
    }
  }

  private fields(type: ts.Type, symbol: ts.Symbol | undefined, path: string, depth: number): RecordSchema {
    const checker = this.checker;
    const properties = checker.getPropertiesOfType(type);
    const isClass = !!symbol && (symbol.flags & ts.SymbolFlags.Class) !== 0;
    const methods = properties.filter((p) => p.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor)).map((p) => p.getName());
    if (methods.length && (isClass || properties.every((p) => p.flags & (ts.SymbolFlags.Method | ts.SymbolFlags.Accessor)))) {
      return this.problem(path, `an instance of ${isClass ? 'class ' : ''}${symbol?.getName() ?? checker.typeToString(type)}, which has methods (${methods.slice(0, 3).join(', ')}${methods.length > 3 ? ', ...' : ''}) that another process would not have`);
    }
    const fields: FieldSchema[] = [];
    for (const property of properties) {
      const name = property.getName();
      const at = path ? `${path}.${name}` : name;
      if (name.startsWith('__@') || name.startsWith('#')) { this.problem(at, name.startsWith('#') ? 'a #private field' : 'a symbol-keyed property'); continue; }
      const optional = (property.flags & ts.SymbolFlags.Optional) !== 0;
      fields.push({ name, optional, schema: this.describe(checker.getTypeOfSymbol(property), at, depth + 1) });
    }
    const index = checker.getIndexInfosOfType(type).find((info) => !(info.keyType.flags & ts.TypeFlags.ESSymbolLike));
    if (index) {
      const value = this.describe(index.type, `${path}[key]`, depth + 1);
      return fields.length === 0 ? { kind: 'dictionary', value } : ANY_SCHEMA;
    }
    // `{}` and empty interfaces admit any non-nullish value, not only empty objects.
    return fields.length === 0 ? ANY_SCHEMA : { kind: 'object', fields };
  }

  private uniqueName(base: string): string {
    let name = base.replace(/\W/g, '_') || 'Record';
    for (let i = 2; this.names.has(name); i++) name = `${base}${i}`;
    this.names.add(name);
    return name;
  }
}

/** The RecordSchema of any type (keyed state's, for the manifest), ignoring what could not cross a process boundary. */
export function schemaOfType(ctx: AnalyzeContext, type: ts.Type): RecordSchema {
  return new SchemaBuilder(ctx.checker, ctx.isUserFile).describe(type, '');
}

/**
 * Which type argument of what a DSL call returns is the element type of the
 * node it made: DataStream<T> and KeyedStream<T, K>; a join's `where(...)`
 * (JoinWhere<T1, T2, ...>) keys the first stream, its `equalTo(...)`
 * (JoinEqualTo<T1, T2, ...>) the second.
 */
const ELEMENT_TYPE_ARGUMENT: Readonly<Record<string, number>> = { DataStream: 0, KeyedStream: 0, JoinWhere: 0, JoinEqualTo: 1 };

/** The element type of the stream a DSL call's node produces (see ELEMENT_TYPE_ARGUMENT), or null. */
export function streamElementType(checker: ts.TypeChecker, call: ts.CallExpression): ts.Type | null {
  const type = checker.getTypeAtLocation(call);
  const index = ELEMENT_TYPE_ARGUMENT[type.getSymbol()?.getName() ?? ''];
  if (index === undefined || !(type as ts.TypeReference).target) return null;
  return checker.getTypeArguments(type as ts.TypeReference)[index] ?? null;
}

/** The nodes whose records leave their stage, each with the first node that receives them in another stage (none without a physical plan). */
function crossingNodes(plan: LogicalPlan, physical: PhysicalPlan | null): Map<number, LogicalNode> {
  const crossing = new Map<number, LogicalNode>();
  for (const edge of physical?.edges ?? []) if (!crossing.has(edge.fromNode)) crossing.set(edge.fromNode, plan.nodes[edge.toNode]);
  return crossing;
}

/** A field path for messages: `the record itself`, `field 'page.url'`. */
function pathText(path: string): string {
  return path ? `field '${path}'` : 'the record itself';
}

/** The RecordSchema of every node whose output crosses a stage boundary, and PC1120 for what cannot cross. */
export function edgeSchemas(ctx: AnalyzeContext, physical: PhysicalPlan | null, callAt: (node: LogicalNode) => ts.CallExpression | null): { schemas: Record<number, RecordSchema>; diagnostics: Diagnostic[] } {
  const schemas: Record<number, RecordSchema> = {};
  const found: Diagnostic[] = [];
  for (const [nodeId, consumer] of crossingNodes(ctx.plan, physical)) {
    const node = ctx.plan.nodes[nodeId];
    const call = callAt(node);
    const type = call ? streamElementType(ctx.checker, call) : null;
    if (!call || !type) { schemas[nodeId] = ANY_SCHEMA; continue; }
    const builder = new SchemaBuilder(ctx.checker, ctx.isUserFile);
    schemas[nodeId] = builder.describe(type, '');
    for (const problem of builder.problems) {
      found.push(diagnostics.recordCannotCross(locationOfNode(ctx.host, calleeName(call)), {
        operator: node.label, consumer: consumer.label, field: pathText(problem.path), what: problem.what,
      }));
    }
  }
  return { schemas, diagnostics: found };
}
