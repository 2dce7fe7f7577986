/**
 * Renders a user function at its call point: its body inlined with the
 * parameters replaced by the generated variables (InlineBody holes), or a call
 * of the function object by reference; and the private copy of a record that
 * a function may change (FunctionPlan.mutates).
 */
import path from 'node:path';
import type { FunctionPlan, InlineBody, InlineSnippet } from '../../ir/analysis.ts';
import type { CodeWriter } from './writer.ts';

/** What a `return` of a block body becomes: an assignment to `target` and a break out of `label`. */
export interface ReturnTarget { target: string; label: string }

/** The snippet's text with its holes filled: parameters by `args`, returns by assignments to `returns.target`. */
export function renderSnippet(snippet: InlineSnippet, args: readonly string[], returns?: ReturnTarget): string {
  let text = '';
  for (const piece of snippet.pieces) {
    if (typeof piece === 'string') text += piece;
    else if ('param' in piece) text += args[piece.param] ?? 'undefined';
    else if (!returns) throw new Error('internal: a return outside a block body');
    else if (piece.return === 'open') text += `{ ${returns.target} = `;
    else if (piece.return === 'close') text += `; break ${returns.label}; }`;
    else text += `{ ${returns.target} = undefined; break ${returns.label}; }`;
  }
  return text;
}

/** Writes `prefix + snippet + suffix`, each line mapped to the user's file, literal text left exactly as written. */
export function writeSnippet(w: CodeWriter, prefix: string, snippet: InlineSnippet, args: readonly string[], suffix: string, returns?: ReturnTarget): void {
  w.snippet(prefix + renderSnippet(snippet, args, returns) + suffix, snippet.site, snippet.literalBreaks);
}

/** Writes a block body as a labeled block whose returns assign `target` and leave the block. */
export function writeBlockBody(w: CodeWriter, inline: InlineBody, args: readonly string[], target: string, label: string): void {
  w.line(`let ${target};`);
  w.block(`${label}: {`, () => writeSnippet(w, '', inline.body, args, '', { target, label }));
}

/** The short `file:line` a generated comment names. */
export function siteLabel(site: { file: string; line: number } | null): string {
  return site ? `${path.posix.basename(site.file)}:${site.line}` : 'unknown position';
}

/** What generated code needs to write calls: names outside the user's, and the by-reference function of a node. */
export interface CallNames {
  name(raw: string): string;
  reference(nodeId: number): string;
}

/**
 * The arguments to pass a node's function for the records `inputs`: the record
 * itself where the function leaves it alone, a private copy where it may change
 * it. An inlined body names its parameter many times, so its copy is a
 * constant; so is one the caller uses again (`bind`: a filter passes on the
 * record it was given, changes included, as Flink's StreamFilter does).
 */
export function recordArguments(w: CodeWriter, fp: FunctionPlan | undefined, nodeId: number, inputs: readonly string[], names: CallNames, bind = false): string[] {
  return inputs.map((input, index) => {
    if (fp && fp.mutates[index] === false) return input;
    const copy = `rt.copy(${input})`;
    if (fp?.strategy !== 'inline' && !bind) return copy;
    const name = names.name(`copy${nodeId}${index ? `_${index}` : ''}`);
    w.line(`const ${name} = ${copy}; // your function changes its input: it gets its own copy`);
    return name;
  });
}

/**
 * Writes code that computes `fn(records)` into a new constant `target`; for
 * inline expression bodies it is one `const` line.
 */
export function writeCall(w: CodeWriter, fp: FunctionPlan | undefined, nodeId: number, records: readonly string[], target: string, names: CallNames): void {
  const args = recordArguments(w, fp, nodeId, records, names);
  const inline = fp?.strategy === 'inline' ? fp.inline : null;
  if (!inline) { w.line(`const ${target} = ${names.reference(nodeId)}(${args.join(', ')});`); return; }
  if (inline.kind === 'expression') { writeSnippet(w, `const ${target} = `, inline.body, args, ';'); return; }
  writeBlockBody(w, inline, args, target, names.name(`fn${nodeId}`));
}
