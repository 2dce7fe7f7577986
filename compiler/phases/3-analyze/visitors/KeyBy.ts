/**
 * keyBy: the key function runs in the upstream stage; keys must be string,
 * number or bigint (PC1004). `any` passes (records parsed from JSON are
 * `any`), as do branded strings (`string & { __brand }`) and type parameters
 * constrained to a key type; null, undefined, booleans, objects, dates,
 * arrays, `unknown` and `void` do not.
 */
import ts from '../../../typescript.ts';
import { diagnostics } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import { analyzeFunction, returnTypeOf } from '../functions.ts';
import type { Visitor } from '../context.ts';

const KEY_FLAGS = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.Any;

/** Whether every value of `type` is a string, a number or a bigint. */
function isKeyType(checker: ts.TypeChecker, type: ts.Type): boolean {
  if (type.flags & KEY_FLAGS) return true;
  if (type.isUnion()) return type.types.every((t) => isKeyType(checker, t));
  // A branded primitive: `string & { readonly __brand: 'UserId' }` is still a string.
  if (type.isIntersection()) return type.types.some((t) => isKeyType(checker, t));
  if (type.flags & ts.TypeFlags.Instantiable) {
    const constraint = checker.getBaseConstraintOfType(type);
    return !!constraint && constraint !== type && isKeyType(checker, constraint);
  }
  return false;
}

export const KeyBy: Visitor = ({ node, call }, ctx) => {
  const argument = call?.arguments[0];
  const plan = analyzeFunction(ctx, node.id, argument, { operator: 'keyBy', inlinable: true, replayed: true });
  ctx.setFunction(plan);
  const type = returnTypeOf(ctx, argument);
  if (!type || !argument || isKeyType(ctx.checker, type)) return;
  ctx.report(diagnostics.invalidKeyType(locationOfNode(ctx.host, argument), { type: ctx.checker.typeToString(type) }));
};
