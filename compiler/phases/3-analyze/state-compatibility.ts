/**
 * The upgrade check: compares the state this build's operators keep with the
 * previous build's manifest.json, so that a deployment that would drop or
 * misread checkpointed state is found before it happens. Operators are matched
 * by uid, states by name (built-in state by kind); stages, node ids and
 * parallelism may change freely (state is keyed, and kept under the uid).
 * - PC1131 (PC2131 under --allow-state-loss): a stateful operator of the
 *   previous build whose uid no node has now, or now has a node of another kind;
 * - PC1132: a state whose kind changed, whose type no longer accepts what was
 *   stored (a schema comparison: added optional fields and wider types are
 *   fine), or a window operator whose windows changed shape;
 * - PC2132: a state that disappeared from an operator while another of the
 *   same kind appeared (it looks renamed);
 * - PC1133 / PC2133: a previous manifest that cannot be read / is too old.
 *
 * In: the previous manifest's file, the plan and each operator's state
 * (state.ts). Out: diagnostics.
 */
import ts from '../../typescript.ts';
import type { RecordSchema } from '../../../runtime/internal/codec/schema.ts';
import { schemaText } from '../../../runtime/internal/codec/schema.ts';
import type { Manifest, ManifestNode, ManifestState, StateKind } from '../../../runtime/internal/manifest.ts';
import { diagnostics, NO_LOCATION, type Diagnostic, type DiagnosticLocation } from '../../diagnostics/index.ts';
import { calleeName, locationAt, locationOfNode } from '../../diagnostics/location.ts';
import { displayPath } from '../../host.ts';
import type { OperatorState, StateEntry } from '../../ir/analysis.ts';
import type { LogicalNode } from '../../ir/logical-plan.ts';
import type { AnalyzeContext } from './context.ts';

/** Which previous build to compare with: its manifest file, and whether it must exist (`--previous`) or may be missing (the output folder's, before a first build). */
export interface PreviousManifest { file: string; required: boolean }

const BUILT_IN: ReadonlySet<StateKind> = new Set<StateKind>(['window', 'rolling', 'timers', 'inflight']);

/** Reads and checks the previous manifest: the manifest, nothing (an optional one that is missing), or why it cannot be used. */
function readManifest(ctx: AnalyzeContext, previous: PreviousManifest): Manifest | Diagnostic | null {
  const file = displayPath(ctx.host, previous.file);
  const unreadable = (reason: string) => diagnostics.previousManifestUnreadable(NO_LOCATION, { file, reason });
  const text = ctx.host.readFile(previous.file);
  if (text === undefined) return previous.required ? unreadable('the file does not exist') : null;
  let manifest: Partial<Manifest>;
  try {
    manifest = JSON.parse(text) as Partial<Manifest>;
  } catch (error) {
    return unreadable(`it is not JSON (${(error as Error).message})`);
  }
  if (!manifest || typeof manifest.pipeline !== 'string' || !Array.isArray(manifest.nodes)) return unreadable("it is not a pipeline's manifest.json");
  if (manifest.pipeline !== ctx.plan.pipeline) return unreadable(`it is the manifest of pipeline '${manifest.pipeline}', not of '${ctx.plan.pipeline}'`);
  return manifest as Manifest;
}

/** `value 'count', window contents, timers`: a state list for messages. */
function describeStates(states: readonly ManifestState[]): string {
  return states.map((s) => (s.kind === 'window' ? 'window contents' : s.kind === 'rolling' ? 'rolling value' : s.kind === 'timers' ? 'timers' : s.kind === 'inflight' ? 'calls in flight' : `${s.kind} '${s.name}'`)).join(', ');
}

/** The entry of `states` that continues `previous`: the same built-in kind, or the same name for keyed state. */
function counterpart(states: readonly StateEntry[], previous: ManifestState): StateEntry | undefined {
  return BUILT_IN.has(previous.kind) ? states.find((s) => s.kind === previous.kind) : states.find((s) => !BUILT_IN.has(s.kind) && s.name === previous.name);
}

/** Whether every value of `source` is also a value of `target` (what was stored fits what is read). An unknown side is given the benefit of the doubt. */
export function accepts(target: RecordSchema, source: RecordSchema): boolean {
  if (target.kind === 'any' || source.kind === 'any') return true;
  if (source.kind === 'union') return source.variants.every((variant) => accepts(target, variant));
  if (target.kind === 'union') return target.variants.some((variant) => accepts(variant, source));
  switch (target.kind) {
    case 'number': case 'string': case 'boolean': case 'bigint':
      return source.kind === target.kind || (source.kind === 'literal' && (source.bigint ? 'bigint' : typeof source.value) === target.kind);
    case 'literal':
      return source.kind === 'literal' && source.value === target.value && !!source.bigint === !!target.bigint;
    case 'array':
      return (source.kind === 'array' && accepts(target.element, source.element)) || (source.kind === 'tuple' && source.elements.every((e) => accepts(target.element, e)));
    case 'tuple':
      return source.kind === 'tuple' && source.elements.length === target.elements.length && target.elements.every((e, i) => accepts(e, source.elements[i]));
    case 'set':
      return source.kind === 'set' && accepts(target.element, source.element);
    case 'map':
      return source.kind === 'map' && accepts(target.key, source.key) && accepts(target.value, source.value);
    case 'dictionary':
      return (source.kind === 'dictionary' && accepts(target.value, source.value)) || (source.kind === 'object' && source.fields.every((f) => accepts(target.value, f.schema)));
    case 'typedArray':
      return source.kind === 'typedArray' && source.type === target.type;
    case 'object':
      return source.kind === 'object' && target.fields.every((field) => {
        const stored = source.fields.find((f) => f.name === field.name);
        if (!stored) return field.optional;
        return (field.optional || !stored.optional) && accepts(field.schema, stored.schema);
      });
    case 'recursive': case 'ref':
      // Recursive types are compared as written.
      return schemaText(target) === schemaText(source);
    default:
      return source.kind === target.kind;
  }
}

/** The type of a state for messages: as written, or spelled out when the name stayed and the shape changed. */
function typeText(state: ManifestState, other: ManifestState): string {
  return state.type !== other.type || !state.schema ? state.type ?? 'unknown' : schemaText(state.schema);
}

/** How a state changed in a way its stored data cannot follow (subject and predicate of PC1132), or null. */
function incompatibility(previous: ManifestState, current: StateEntry): { what: string; change: string } | null {
  const subject = current.kind === 'window' ? 'The window contents' : current.kind === 'rolling' ? 'The rolling value' : `The state '${current.name}'`;
  if (previous.kind !== current.kind) return { what: subject, change: `is now a ${current.kind} state (it was a ${previous.kind} state)` };
  if (previous.windows !== undefined && current.windows !== undefined && previous.windows !== current.windows) {
    return { what: 'The windows', change: `are ${current.windows} now (they were ${previous.windows})` };
  }
  if (previous.schema && current.schema && !accepts(current.schema, previous.schema)) {
    const plural = current.kind === 'window';
    const what = current.kind === 'window' || current.kind === 'rolling' ? subject : `The ${current.kind} state '${current.name}'`;
    return { what, change: `now ${plural ? 'store' : 'stores'} ${typeText(current, previous)} (${plural ? 'they' : 'it'} stored ${typeText(previous, current)})` };
  }
  return null;
}

/** `sum(count) at line 12`: an operator of the previous build. */
function previousOperator(node: ManifestNode): string {
  const line = node.site?.split(':').at(-2);
  return line ? `${node.label} at line ${line}` : node.label;
}

/** The `pipeline(...)` call of the pipeline file: where a finding about no operator in particular is reported. */
function pipelineCallLocation(ctx: AnalyzeContext, entry: ts.SourceFile): DiagnosticLocation {
  let found: ts.CallExpression | null = null;
  const visit = (node: ts.Node): void => {
    if (found) return;
    if (ts.isCallExpression(node) && ts.isIdentifier(node.expression) && node.expression.text === 'pipeline') found = node;
    else ts.forEachChild(node, visit);
  };
  visit(entry);
  return found ? locationOfNode(ctx.host, (found as ts.CallExpression).expression) : { ...NO_LOCATION, file: ctx.plan.file };
}

/**
 * Compares the operators' state with the previous build's manifest. `compared`
 * is the manifest's path when there was one to compare with (an optional
 * manifest may not exist yet).
 */
export function checkStateCompatibility(
  ctx: AnalyzeContext, previous: PreviousManifest, entry: ts.SourceFile, state: Readonly<Record<number, OperatorState>>,
  callOf: (node: LogicalNode) => ts.CallExpression | null, allowStateLoss: boolean,
): { diagnostics: Diagnostic[]; compared: string | null } {
  const manifest = readManifest(ctx, previous);
  if (manifest === null) return { diagnostics: [], compared: null };
  if (!('nodes' in manifest)) return { diagnostics: [manifest], compared: null };
  const file = displayPath(ctx.host, previous.file);
  if (!manifest.nodes.every((n) => typeof n.uid === 'string')) {
    return { diagnostics: [diagnostics.previousManifestWithoutState(NO_LOCATION, { file, version: String(manifest.pipecVersion ?? 'an older version') })], compared: null };
  }

  const found: Diagnostic[] = [];
  const nodeLocation = (node: LogicalNode): DiagnosticLocation => {
    const call = callOf(node);
    return call ? locationOfNode(ctx.host, calleeName(call)) : node.site ? locationAt(ctx, node.site) : NO_LOCATION;
  };
  const byUid = new Map<string, LogicalNode>();
  for (const node of ctx.plan.nodes) if (!byUid.has(node.uid)) byUid.set(node.uid, node);
  const previousUids = new Set(manifest.nodes.map((n) => n.uid));

  for (const old of manifest.nodes) {
    if (!old.state?.length) continue;
    const current = byUid.get(old.uid);
    if (!current || current.kind !== old.kind) {
      // Where to say it: the node that took the uid, or the one new operator of the same kind (likely the replacement).
      const fresh = ctx.plan.nodes.filter((n) => n.kind === old.kind && !previousUids.has(n.uid) && state[n.id]);
      const at = current ?? (fresh.length === 1 ? fresh[0] : null);
      const reason = current ? `the uid now belongs to this ${current.label}, which cannot read it`
        : at ? `no operator has this uid now (this ${at.label}, uid '${at.uid}', is new)` : 'no operator has this uid now';
      const args = { operator: previousOperator(old), uid: old.uid, state: describeStates(old.state), reason };
      const location = at ? nodeLocation(at) : pipelineCallLocation(ctx, entry);
      found.push(allowStateLoss ? diagnostics.stateDroppedAllowed(location, args) : diagnostics.stateDropped(location, args));
      continue;
    }
    const now = state[current.id];
    if (!now) continue;
    for (const previousState of old.state) {
      const currentState = counterpart(now.entries, previousState);
      const change = currentState && incompatibility(previousState, currentState);
      if (change) found.push(diagnostics.stateIncompatible(currentState.at ?? nodeLocation(current), { ...change, operator: current.label }));
    }
    if (old.stateComplete === false || !now.complete) continue;
    // A keyed state that is gone while a new one of the same kind appeared looks renamed.
    const gone = old.state.filter((s) => !BUILT_IN.has(s.kind) && !counterpart(now.entries, s));
    for (const added of now.entries.filter((s) => !BUILT_IN.has(s.kind) && !old.state!.some((o) => !BUILT_IN.has(o.kind) && o.name === s.name))) {
      const renamed = gone.findIndex((g) => g.kind === added.kind);
      if (renamed < 0) continue;
      const [was] = gone.splice(renamed, 1);
      found.push(diagnostics.stateRenamed(added.at ?? nodeLocation(current), { kind: added.kind, name: added.name, operator: current.label, previous: was.name }));
    }
  }
  return { diagnostics: found, compared: file };
}
