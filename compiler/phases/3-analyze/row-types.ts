/**
 * Row types of database sources: for each source whose connector declares a
 * `rowType` (mysql.table, mysql.cdc), the declared type of every field of
 * its row type T, so the runtime converts each column to what T says
 * (DECIMAL to a string or an exact number, BIGINT to a bigint, DATETIME to a
 * Date, BLOB to a Buffer, JSON to its parsed value).
 *
 * In: a visited source node and the checker. Out: a field → kind map for the
 * manifest's `columnTypes`, or null when T is not known (any, unknown), in
 * which case columns keep the driver's values.
 *
 * Kinds: 'string' | 'number' | 'bigint' | 'boolean' | 'date' (a Date) |
 * 'bytes' (a Buffer or Uint8Array) | 'json' (an object, an array, unknown),
 * with a trailing '?' when the field may be null or undefined. A field whose
 * type mixes kinds (`string | number`) or is `any` is left out.
 */
import ts from '../../typescript.ts';
import { connectorDefinition } from '../../../runtime/internal/connectors/registry.ts';
import type { AnalyzeContext, VisitedNode } from './context.ts';

/** T of the `Source<T>` a `p.source(...)` call receives, through its phantom `__out` field. */
function recordTypeOf(argument: ts.Expression, checker: ts.TypeChecker): ts.Type | null {
  const out = checker.getTypeAtLocation(argument).getProperty('__out');
  if (!out) return null;
  const signature = checker.getNonNullableType(checker.getTypeOfSymbol(out)).getCallSignatures()[0];
  return signature ? signature.getReturnType() : null;
}

/** The kind of one non-null member of a field's type, or null when it is not one kind. */
function kindOf(type: ts.Type, checker: ts.TypeChecker): string | null {
  if (type.flags & (ts.TypeFlags.Any)) return null;
  if (type.flags & ts.TypeFlags.Unknown) return 'json';
  if (type.flags & ts.TypeFlags.StringLike) return 'string';
  if (type.flags & ts.TypeFlags.NumberLike) return 'number';
  if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean';
  if (type.flags & ts.TypeFlags.BigIntLike) return 'bigint';
  const name = type.getSymbol()?.getName() ?? type.aliasSymbol?.getName();
  if (name === 'Date') return 'date';
  if (name === 'Buffer' || name === 'Uint8Array') return 'bytes';
  if (type.flags & ts.TypeFlags.Object) return checker.getSignaturesOfType(type, ts.SignatureKind.Call).length > 0 ? null : 'json';
  return null;
}

/** The kind of a field (with '?' when it may be null or missing), or null to keep the driver's value. */
function fieldKind(type: ts.Type, optional: boolean, checker: ts.TypeChecker): string | null {
  if (type.flags & ts.TypeFlags.Any) return null;
  const members = type.isUnion() ? type.types : [type];
  const nullable = optional || members.some((m) => m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void));
  const present = members.filter((m) => !(m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void)));
  // `true | false` is one boolean; literal unions of one primitive are that primitive.
  const kinds = new Set(present.map((m) => kindOf(m, checker)));
  if (kinds.size !== 1 || kinds.has(null)) return null;
  const kind = [...kinds][0]!;
  return nullable ? `${kind}?` : kind;
}

/** The declared kind of each field of a database source's rows, or null when the row type is not known. */
export function rowColumnTypes({ node, call }: VisitedNode, ctx: AnalyzeContext): Record<string, string> | null {
  if (node.kind !== 'source' || !call?.arguments[0]) return null;
  const where = connectorDefinition(node.spec.connector)?.rowType?.[node.spec.connector];
  if (!where) return null;
  let row = recordTypeOf(call.arguments[0], ctx.checker);
  if (row && where === 'change-event') {
    const after = row.getProperty('after');
    row = after ? ctx.checker.getNonNullableType(ctx.checker.getTypeOfSymbol(after)) : null;
  }
  if (!row || row.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return null;
  const columns: Record<string, string> = {};
  for (const field of ctx.checker.getPropertiesOfType(row)) {
    const kind = fieldKind(ctx.checker.getTypeOfSymbol(field), (field.flags & ts.SymbolFlags.Optional) !== 0, ctx.checker);
    if (kind !== null) columns[field.name] = kind;
  }
  return Object.keys(columns).length > 0 ? columns : null;
}
