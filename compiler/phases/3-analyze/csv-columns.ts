/**
 * CSV column types: for each `file.csv<T>(...)` source, the declared type of
 * every field of T, so the runtime reads a column as what the record type
 * says (a `string` field keeps `00123`; a `number` field is parsed).
 *
 * In: a visited source node and the checker. Out: a column → type map for the
 * manifest (`Analysis.columnTypes`), or null when T is not known (any,
 * unknown), in which case the runtime keeps casting numeric-looking cells.
 *
 * Map values: 'string' | 'number' | 'boolean' | 'bigint', with a trailing '?'
 * when the field is optional or nullable (an empty cell is then undefined
 * instead of an error). The key '*' stands for every column not named, from a
 * string index signature (`Record<string, string>`, file.csv's default T).
 * A field whose type mixes primitive kinds (`string | number`) is left out and
 * cast as before; any other type (a Date, an object) is read as a string.
 */
import ts from '../../typescript.ts';
import type { AnalyzeContext, VisitedNode } from './context.ts';

type ColumnKind = 'string' | 'number' | 'boolean' | 'bigint';

/** T of the `Source<T>` a `p.source(...)` call receives, through its phantom `__out` field. */
function recordTypeOf(argument: ts.Expression, checker: ts.TypeChecker): ts.Type | null {
  const out = checker.getTypeAtLocation(argument).getProperty('__out');
  if (!out) return null;
  const signature = checker.getNonNullableType(checker.getTypeOfSymbol(out)).getCallSignatures()[0];
  return signature ? signature.getReturnType() : null;
}

function primitiveKind(type: ts.Type): ColumnKind | null {
  if (type.flags & ts.TypeFlags.StringLike) return 'string';
  if (type.flags & ts.TypeFlags.NumberLike) return 'number';
  if (type.flags & ts.TypeFlags.BooleanLike) return 'boolean';
  if (type.flags & ts.TypeFlags.BigIntLike) return 'bigint';
  return null;
}

/** The column type of one field, or null to keep the runtime's numeric casting. */
function columnTypeOf(type: ts.Type, optional: boolean, checker: ts.TypeChecker): string | null {
  if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return null;
  const members = type.isUnion() ? type.types : [type];
  const nullable = optional || members.some((m) => m.flags & (ts.TypeFlags.Undefined | ts.TypeFlags.Null | ts.TypeFlags.Void));
  const present = checker.getNonNullableType(type);
  if (present.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown | ts.TypeFlags.Never)) return null;
  const kinds = new Set((present.isUnion() ? present.types : [present]).map(primitiveKind).filter((k) => k !== null));
  if (kinds.size > 1) return null;
  const kind = [...kinds][0] ?? 'string';
  return kind !== 'string' && nullable ? `${kind}?` : kind;
}

/** The column types of a `file.csv` source node, or null when its record type is not known. */
export function csvColumnTypes({ node, call }: VisitedNode, ctx: AnalyzeContext): Record<string, string> | null {
  if (node.kind !== 'source' || node.spec.connector !== 'file.csv' || !call?.arguments[0]) return null;
  const record = recordTypeOf(call.arguments[0], ctx.checker);
  if (!record || record.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return null;
  const columns: Record<string, string> = {};
  for (const field of ctx.checker.getPropertiesOfType(record)) {
    const type = columnTypeOf(ctx.checker.getTypeOfSymbol(field), (field.flags & ts.SymbolFlags.Optional) !== 0, ctx.checker);
    if (type !== null) columns[field.name] = type;
  }
  const index = ctx.checker.getIndexInfoOfType(record, ts.IndexKind.String);
  const other = index ? columnTypeOf(index.type, false, ctx.checker) : null;
  if (other !== null) columns['*'] = other;
  return Object.keys(columns).length > 0 ? columns : null;
}
