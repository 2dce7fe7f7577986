/**
 * The checkpointed state of each stateful operator, for the manifest and the
 * upgrade check against the previous build (state-compatibility.ts):
 * - built-in state with the type it holds: a window's contents (`window`), a
 *   rolling aggregation's value per key (`rolling`), timers (`timers`), an
 *   asyncMap's inputs whose calls are in flight (`inflight`);
 * - for keyed process functions, every `ctx.state.value / list / map /
 *   reducing / aggregating(name)` call in the function and in the user code it
 *   reaches (helper functions, classes, methods), by name, kind and the type
 *   it stores. A name computed at run time cannot be recorded (PC2130).
 *
 * In: a stateful node, its DSL call and the checker. Out: OperatorState.
 */
import path from 'node:path';
import ts from '../../typescript.ts';
import type { WindowAssigner } from '../../../runtime/api/windows.ts';
import type { RecordSchema } from '../../../runtime/internal/codec/schema.ts';
import type { StateKind } from '../../../runtime/internal/manifest.ts';
import { diagnostics, type DiagnosticLocation } from '../../diagnostics/index.ts';
import { calleeName, locationOfNode } from '../../diagnostics/location.ts';
import { pipecRuntimeDir } from '../../host.ts';
import type { OperatorState, StateEntry } from '../../ir/analysis.ts';
import type { LogicalNodeOf } from '../../ir/logical-plan.ts';
import type { AnalyzeContext } from './context.ts';
import { schemaOfType, streamElementType } from './edge-types.ts';
import { isSuppressed } from './functions.ts';

/** The methods of `ctx.state` (KeyedStateStore), which are also the kinds of keyed state. */
const KEYED_STATE_KINDS: ReadonlySet<string> = new Set<StateKind>(['value', 'list', 'map', 'reducing', 'aggregating']);

/** A stored type: as TypeScript prints it, and spelled out. */
interface StoredType { type: string | null; schema?: RecordSchema }

const UNKNOWN: StoredType = { type: null };

function stored(ctx: AnalyzeContext, type: ts.Type | null | undefined): StoredType {
  if (!type) return UNKNOWN;
  return { type: ctx.checker.typeToString(type, undefined, ts.TypeFormatFlags.NoTruncation), schema: schemaOfType(ctx, type) };
}

/** `T[]` of a stored T (parenthesized when T is a union or a function type). */
function arrayOf(element: StoredType): StoredType {
  if (element.type === null) return UNKNOWN;
  const text = /[|&]|=>/.test(element.type) ? `(${element.type})[]` : `${element.type}[]`;
  return { type: text, ...(element.schema ? { schema: { kind: 'array', element: element.schema } } : {}) };
}

/** The accumulator type of an AggregateFunction expression: what `createAccumulator()` returns. */
function accumulatorType(ctx: AnalyzeContext, expression: ts.Expression | undefined): ts.Type | null {
  if (!expression) return null;
  const create = ctx.checker.getTypeAtLocation(expression).getProperty('createAccumulator');
  const signature = create && ctx.checker.getTypeOfSymbolAtLocation(create, expression).getCallSignatures()[0];
  return signature ? ctx.checker.getReturnTypeOfSignature(signature) : null;
}

/** Timers of a keyed operator: timestamps, kept with its state. */
function timers(at: DiagnosticLocation | null): StateEntry {
  return { name: 'timers', kind: 'timers', type: 'number', at };
}

/** `rolling`: the value per key of reduce / sum / min / max / minBy / maxBy, a record of the stream's type. */
export function rollingState(ctx: AnalyzeContext, call: ts.CallExpression | null): OperatorState {
  const type = call ? stored(ctx, streamElementType(ctx.checker, call)) : UNKNOWN;
  return { entries: [{ name: 'rolling', kind: 'rolling', ...type, at: call ? locationOfNode(ctx.host, calleeName(call)) : null }], complete: true };
}

/** `inflight`: an asyncMap keeps the inputs of its calls in flight (records of the stream it is called on), to make them again after a restore. */
export function asyncMapState(ctx: AnalyzeContext, call: ts.CallExpression | null): OperatorState {
  let input = UNKNOWN;
  if (call && ts.isPropertyAccessExpression(call.expression)) {
    const stream = ctx.checker.getTypeAtLocation(call.expression.expression);
    if (stream.getSymbol()?.getName() === 'DataStream' && (stream as ts.TypeReference).target) input = stored(ctx, ctx.checker.getTypeArguments(stream as ts.TypeReference)[0]);
  }
  return { entries: [{ name: 'inflight', kind: 'inflight', ...input, at: call ? locationOfNode(ctx.host, calleeName(call)) : null }], complete: true };
}

/** The windows a window operator keeps panes or sessions of, in the terms that decide whether old contents fit. */
export function windowsText(assigner: WindowAssigner): string {
  if (assigner.type === 'count') return 'count';
  const time = `${assigner.time} time`;
  if (assigner.type === 'session') return `session ${time}`;
  const offset = assigner.offset ? `, offset ${assigner.offset}` : '';
  const shape = assigner.type === 'sliding' ? `${assigner.size}/${assigner.slide}` : `${assigner.size}`;
  return `${assigner.type}(${shape}${offset}) ${time}`;
}

/** The element type T of the WindowedStream<T, ...> a window function is called on. */
function windowElementType(ctx: AnalyzeContext, call: ts.CallExpression): ts.Type | null {
  if (!ts.isPropertyAccessExpression(call.expression)) return null;
  const type = ctx.checker.getTypeAtLocation(call.expression.expression);
  const name = type.getSymbol()?.getName();
  if ((name !== 'WindowedStream' && name !== 'AllWindowedStream') || !(type as ts.TypeReference).target) return null;
  return ctx.checker.getTypeArguments(type as ts.TypeReference)[0] ?? null;
}

/** `window`: what each window holds (reduce: T, aggregate: the accumulator, process: T[]) and its windows; timers for time windows. */
export function windowState(ctx: AnalyzeContext, node: LogicalNodeOf<'window' | 'windowAll'>, call: ts.CallExpression | null, at: DiagnosticLocation | null): OperatorState {
  let contents = UNKNOWN;
  if (call) {
    const element = windowElementType(ctx, call);
    const fn = node.spec.function;
    contents = fn === 'reduce' ? stored(ctx, element) : fn === 'aggregate' ? stored(ctx, accumulatorType(ctx, call.arguments[0])) : arrayOf(stored(ctx, element));
  }
  const entries: StateEntry[] = [{ name: 'window', kind: 'window', ...contents, windows: windowsText(node.spec.assigner), at }];
  if (node.spec.assigner.type !== 'count') entries.push(timers(at));
  return { entries, complete: true };
}

/** The state a keyed (co)process function registers, plus its timers; a non-keyed co-process function has none. */
export function processFunctionState(ctx: AnalyzeContext, node: LogicalNodeOf<'keyedProcess' | 'coProcess'>, call: ts.CallExpression | null): OperatorState {
  if (node.kind === 'coProcess' && !node.spec.keyed) return { entries: [], complete: true };
  const at = call ? locationOfNode(ctx.host, calleeName(call)) : null;
  const argument = call?.arguments[0];
  if (!call || !argument) return { entries: [timers(at)], complete: false };
  let complete = fromUserCode(ctx, argument);
  const entries: StateEntry[] = [];
  for (const stateCall of stateCalls(ctx, argument, call)) {
    const kind = (stateCall.expression as ts.PropertyAccessExpression).name.text as StateKind;
    const nameArgument = stateCall.arguments[0];
    const name = nameArgument && ctx.checker.getTypeAtLocation(nameArgument);
    if (!name?.isStringLiteral()) {
      complete = false;
      if (!isSuppressed(stateCall, 'PC2130')) ctx.report(diagnostics.dynamicStateName(locationOfNode(ctx.host, nameArgument ?? stateCall), { kind }));
      continue;
    }
    // The first call names a state; later calls with the same name use it.
    if (entries.some((e) => e.name === name.value)) continue;
    entries.push({ name: name.value, kind, ...storedType(ctx, stateCall, kind), at: locationOfNode(ctx.host, nameArgument) });
  }
  entries.push(timers(at));
  return { entries, complete };
}

/** What a keyed state stores per key: value and reducing S, list S[], map Map<K, V>, aggregating its accumulator. */
function storedType(ctx: AnalyzeContext, call: ts.CallExpression, kind: StateKind): StoredType {
  if (kind === 'aggregating') return stored(ctx, accumulatorType(ctx, call.arguments[1]));
  const signature = ctx.checker.getResolvedSignature(call);
  const handle = signature && ctx.checker.getReturnTypeOfSignature(signature);
  const args = handle && (handle as ts.TypeReference).target ? ctx.checker.getTypeArguments(handle as ts.TypeReference) : [];
  if (kind === 'list') return arrayOf(stored(ctx, args[0]));
  if (kind !== 'map') return stored(ctx, args[0]);
  const [key, value] = [stored(ctx, args[0]), stored(ctx, args[1])];
  if (key.type === null || value.type === null) return UNKNOWN;
  return { type: `Map<${key.type}, ${value.type}>`, ...(key.schema && value.schema ? { schema: { kind: 'map', key: key.schema, value: value.schema } } : {}) };
}

/** Whether `expression` is pipec's KeyedStateStore (`ctx.state`). */
function isKeyedStateStore(ctx: AnalyzeContext, expression: ts.Expression): boolean {
  const symbol = ctx.checker.getTypeAtLocation(expression).getSymbol();
  return symbol?.getName() === 'KeyedStateStore' && !!symbol.declarations?.some((d) => path.resolve(d.getSourceFile().fileName).startsWith(pipecRuntimeDir));
}

function unwrap(expression: ts.Expression): ts.Expression {
  while (ts.isParenthesizedExpression(expression) || ts.isAsExpression(expression) || ts.isNonNullExpression(expression) || ts.isSatisfiesExpression(expression)) expression = expression.expression;
  return expression;
}

/** Whether the function object passed to an operator is written in the user's code, so its state calls can all be found. */
function fromUserCode(ctx: AnalyzeContext, argument: ts.Expression): boolean {
  const expression = unwrap(argument);
  if (ts.isObjectLiteralExpression(expression) || ts.isFunctionLike(expression) || ts.isClassExpression(expression)) return true;
  const target = ts.isCallExpression(expression) || ts.isNewExpression(expression) ? expression.expression : expression;
  let symbol = ctx.checker.getSymbolAtLocation(target);
  if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
  const declarations = symbol?.declarations ?? [];
  return declarations.length > 0 && declarations.every((d) => ctx.isUserFile(d.getSourceFile()));
}

function contains(outer: ts.Node, inner: ts.Node): boolean {
  return outer.getSourceFile() === inner.getSourceFile() && outer.pos <= inner.pos && inner.end <= outer.end;
}

/**
 * The `ctx.state.<kind>(...)` calls reachable from `root`: inside it, and in
 * the user's functions, methods, classes and variables it refers to,
 * transitively, in the order found. Never inside `exclude` (the DSL call, and
 * with it the build function), so the rest of the pipeline is not searched.
 */
function stateCalls(ctx: AnalyzeContext, root: ts.Node, exclude: ts.Node): ts.CallExpression[] {
  return reachableCalls(ctx, root, exclude, (node) => ts.isPropertyAccessExpression(node.expression) && KEYED_STATE_KINDS.has(node.expression.name.text)
    && isKeyedStateStore(ctx, node.expression.expression));
}

/**
 * The calls that `matches` accepts reachable from `root`: inside it, and in
 * the user's functions, methods, classes and variables it refers to,
 * transitively, in the order found; never inside `exclude`.
 */
export function reachableCalls(ctx: AnalyzeContext, root: ts.Node, exclude: ts.Node, matches: (call: ts.CallExpression) => boolean): ts.CallExpression[] {
  const calls: ts.CallExpression[] = [];
  const searched: ts.Node[] = [root];
  const queue: ts.Node[] = [root];
  const follow = (id: ts.Identifier): void => {
    const shorthand = ts.isShorthandPropertyAssignment(id.parent) && id.parent.name === id;
    let symbol = shorthand ? ctx.checker.getShorthandAssignmentValueSymbol(id.parent) : ctx.checker.getSymbolAtLocation(id);
    if (symbol && symbol.flags & ts.SymbolFlags.Alias) symbol = ctx.checker.getAliasedSymbol(symbol);
    for (const declaration of symbol?.declarations ?? []) {
      if (!ctx.isUserFile(declaration.getSourceFile())) continue;
      const target = ts.isVariableDeclaration(declaration) || ts.isPropertyAssignment(declaration) ? declaration.initializer
        : ts.isFunctionDeclaration(declaration) || ts.isClassDeclaration(declaration) || ts.isMethodDeclaration(declaration) ? declaration : undefined;
      if (!target || contains(target, exclude) || searched.some((s) => contains(s, target))) continue;
      searched.push(target);
      queue.push(target);
    }
  };
  const visit = (node: ts.Node): void => {
    if (ts.isCallExpression(node) && !calls.includes(node) && matches(node)) calls.push(node);
    if (ts.isIdentifier(node)) follow(node);
    ts.forEachChild(node, visit);
  };
  for (let next = queue.shift(); next; next = queue.shift()) visit(next);
  return calls;
}

/** The type arguments of the type of `expression` when it is the pipec class `name` (JoinWithWindow, IntervalJoined...). */
function typeArgumentsOf(ctx: AnalyzeContext, expression: ts.Expression, names: readonly string[]): readonly ts.Type[] {
  const type = ctx.checker.getTypeAtLocation(expression);
  const name = type.getSymbol()?.getName();
  if (!name || !names.includes(name) || !(type as ts.TypeReference).target) return [];
  return ctx.checker.getTypeArguments(type as ts.TypeReference);
}

/** `[T1[], T2[]]` of stored T1 and T2. */
function sidesOf(first: StoredType, second: StoredType): StoredType {
  const [a, b] = [arrayOf(first), arrayOf(second)];
  if (a.type === null || b.type === null) return UNKNOWN;
  return { type: `[${a.type}, ${b.type}]`, ...(a.schema && b.schema ? { schema: { kind: 'tuple', elements: [a.schema, b.schema] } } : {}) };
}

/** A window join's or coGroup's `window` state (each window holds `[first[], second[]]`, Flink's tagged union) and its timers. */
export function windowJoinState(ctx: AnalyzeContext, node: LogicalNodeOf<'windowJoin'>, call: ts.CallExpression | null, at: DiagnosticLocation | null): OperatorState {
  const [first, second] = call && ts.isPropertyAccessExpression(call.expression) ? typeArgumentsOf(ctx, call.expression.expression, ['JoinWithWindow', 'CoGroupWithWindow']) : [];
  const contents = sidesOf(stored(ctx, first), stored(ctx, second));
  const entries: StateEntry[] = [{ name: 'window', kind: 'window', ...contents, windows: windowsText(node.spec.assigner), at }];
  if (node.spec.assigner.type !== 'count') entries.push(timers(at));
  return { entries, complete: true };
}

/** An interval join's buffers, `left` and `right` (per key: elements by timestamp, ascending), and its cleanup timers. */
export function intervalJoinState(ctx: AnalyzeContext, call: ts.CallExpression | null): OperatorState {
  const at = call ? locationOfNode(ctx.host, calleeName(call)) : null;
  const [left, right] = call && ts.isPropertyAccessExpression(call.expression) ? typeArgumentsOf(ctx, call.expression.expression, ['IntervalJoined']) : [];
  const buffer = (element: ts.Type | undefined): StoredType => {
    const values = arrayOf(stored(ctx, element));
    if (values.type === null) return UNKNOWN;
    return { type: `Array<{ ts: number; values: ${values.type} }>`, ...(values.schema ? { schema: { kind: 'array', element: { kind: 'object', fields: [{ name: 'ts', optional: false, schema: { kind: 'number' } }, { name: 'values', optional: false, schema: values.schema }] } } } : {}) };
  };
  return { entries: [{ name: 'left', kind: 'buffer', ...buffer(left), at }, { name: 'right', kind: 'buffer', ...buffer(right), at }, timers(at)], complete: true };
}
