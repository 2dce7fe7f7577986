/**
 * The key types of a join's two sides (PC1140): keys are compared as they are
 * (1 and '1' are different keys), so a join whose sides' key types share no
 * kind of value — string, number, bigint — can never pair anything.
 * TypeScript accepts such a join, since each key function is typed on its own.
 *
 * In: the two key types. Out: whether they can never be equal.
 */
import ts from '../../typescript.ts';

type KeyKind = 'string' | 'number' | 'bigint';

/** The kinds of key values a type admits, or null when any value may come (`any`, `unknown`, a type parameter without constraint). */
function keyKinds(checker: ts.TypeChecker, type: ts.Type): Set<KeyKind> | null {
  const flags = type.flags;
  if (flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return null;
  if (flags & ts.TypeFlags.StringLike) return new Set(['string']);
  if (flags & ts.TypeFlags.NumberLike) return new Set(['number']);
  if (flags & ts.TypeFlags.BigIntLike) return new Set(['bigint']);
  if (type.isUnion()) {
    const kinds = new Set<KeyKind>();
    for (const member of type.types) {
      const k = keyKinds(checker, member);
      if (k === null) return null;
      for (const kind of k) kinds.add(kind);
    }
    return kinds;
  }
  // A branded primitive: `string & { __brand }` is a string.
  if (type.isIntersection()) {
    for (const member of type.types) { const k = keyKinds(checker, member); if (k && k.size) return k; }
    return null;
  }
  if (flags & ts.TypeFlags.Instantiable) {
    const constraint = checker.getBaseConstraintOfType(type);
    return constraint && constraint !== type ? keyKinds(checker, constraint) : null;
  }
  // Not a key type at all (PC1004 says so at its keyBy): nothing to compare.
  return null;
}

/** Whether keys of these two types can never be equal. */
export function keyTypesDisjoint(checker: ts.TypeChecker, left: ts.Type, right: ts.Type): boolean {
  const a = keyKinds(checker, left), b = keyKinds(checker, right);
  if (a === null || b === null || a.size === 0 || b.size === 0) return false;
  return ![...a].some((kind) => b.has(kind));
}
