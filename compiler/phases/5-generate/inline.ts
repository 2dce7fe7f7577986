/**
 * Renders a user function at its call point: its body inlined with the
 * parameters renamed to the generated variables (InlineBody markers), or a call
 * of the function object by reference.
 */
import path from 'node:path';
import type { FunctionPlan, InlineBody } from '../../ir/analysis.ts';
import type { CodeWriter, Origin } from './writer.ts';

/** Fills parameter markers with argument expressions. */
export function fillParams(text: string, args: readonly string[]): string {
  return text.replace(/\uE000(\d+)\uE001/g, (_m, i: string) => args[Number(i)] ?? 'undefined');
}

/** Writes a block body as a labeled block whose returns assign `target` and leave the block. */
export function writeBlockBody(w: CodeWriter, inline: InlineBody, args: readonly string[], target: string, label: string): void {
  const body = fillParams(inline.body, args).replace(/\uE002([\s\S]*?)\uE003/g, (_m, expr: string) => `{ ${target} = ${expr.trim()}; break ${label}; }`);
  w.line(`let ${target};`);
  w.block(`${label}: {`, () => { w.snippet(body, inline.site as Origin); });
}

/** The short `file:line` a generated comment names. */
export function siteLabel(site: { file: string; line: number } | null): string {
  return site ? `${path.posix.basename(site.file)}:${site.line}` : 'unknown position';
}

/**
 * Writes code that computes `fn(args)` into a new constant `target` and
 * returns nothing; for inline expression bodies it is one `const` line.
 */
export function writeCall(w: CodeWriter, fp: FunctionPlan | undefined, nodeId: number, args: readonly string[], target: string, reference: (nodeId: number) => string): void {
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (!inline) { w.line(`const ${target} = ${reference(nodeId)}(${args.join(', ')});`); return; }
  if (inline.kind === 'expression') { w.snippet(`const ${target} = ${fillParams(inline.body, args)};`, inline.site as Origin); return; }
  writeBlockBody(w, inline, args, target, `fn${nodeId}`);
}
