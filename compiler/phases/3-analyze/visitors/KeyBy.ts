/** keyBy: the key function runs in the upstream stage; keys must be string, number or bigint (PC1004). */
import ts from 'typescript';
import { diagnostics } from '../../../diagnostics/index.ts';
import { locationOfNode } from '../../../diagnostics/location.ts';
import { analyzeFunction, returnTypeOf } from '../functions.ts';
import type { Visitor } from '../context.ts';

const KEY_FLAGS = ts.TypeFlags.StringLike | ts.TypeFlags.NumberLike | ts.TypeFlags.BigIntLike | ts.TypeFlags.Any;

export const KeyBy: Visitor = ({ node, call }, ctx) => {
  const argument = call?.arguments[0];
  const plan = analyzeFunction(ctx, node.id, argument, { operator: 'keyBy', inlinable: true, replayed: true });
  ctx.setFunction(plan);
  const type = returnTypeOf(ctx, argument);
  if (!type || !argument) return;
  const parts = type.isUnion() ? type.types : [type];
  if (parts.every((t) => (t.flags & KEY_FLAGS) !== 0)) return;
  ctx.report(diagnostics.invalidKeyType(locationOfNode(ctx.host, argument), { type: ctx.checker.typeToString(type) }));
};
