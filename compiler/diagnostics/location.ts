/**
 * Turns places in the user's code (a TypeScript node, or a line and column the
 * plan phase recovered from a stack frame) into DiagnosticLocations.
 */
import path from 'node:path';
import ts from '../typescript.ts';
import { displayPath, type Host } from '../host.ts';
import type { SourcePosition } from '../ir/logical-plan.ts';
import type { DiagnosticLocation } from './types.ts';

function lineTextOf(sourceFile: ts.SourceFile, line: number): string {
  const starts = sourceFile.getLineStarts();
  const end = line + 1 < starts.length ? starts[line + 1] : sourceFile.text.length;
  return sourceFile.text.slice(starts[line], end).replace(/\r?\n$/, '');
}

/** The location of a syntax node (underlining the whole node, or its first line). */
export function locationOfNode(host: Host, node: ts.Node): DiagnosticLocation {
  const sourceFile = node.getSourceFile();
  const start = node.getStart(sourceFile);
  const { line, character } = sourceFile.getLineAndCharacterOfPosition(start);
  const lineText = lineTextOf(sourceFile, line);
  return { file: displayPath(host, sourceFile.fileName), line: line + 1, column: character + 1, length: Math.min(node.getEnd() - start, lineText.length - character), lineText };
}

/** The node a diagnostic about a DSL call should underline: the method name of `x.window(...)`, or the whole call. */
export function calleeName(call: ts.CallExpression): ts.Node {
  return ts.isPropertyAccessExpression(call.expression) ? call.expression.name : call;
}

/** The location of a line and column in one of the program's files. */
export function locationAt(context: { host: Host; program: ts.Program }, position: SourcePosition, length = 1): DiagnosticLocation {
  const sourceFile = context.program.getSourceFile(path.resolve(context.host.root, position.file));
  const lineText = sourceFile && position.line > 0 ? lineTextOf(sourceFile, position.line - 1) : null;
  return { file: position.file, line: position.line, column: position.column, length, lineText };
}
