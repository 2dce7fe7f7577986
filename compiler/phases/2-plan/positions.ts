/**
 * From positions in the evaluated bundle to places in the user's code: stack
 * frames mapped through the bundle's source map, V8 stack strings parsed, and
 * a position widened to the construct that starts there.
 *
 * In: StackPositions (bundle). Out: SourcePositions and DiagnosticLocations (user's files).
 */
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import ts from '../../typescript.ts';
import { TraceMap, originalPositionFor } from '@jridgewell/trace-mapping';
import type { StackPosition } from '../../../runtime/api/graph.ts';
import type { DiagnosticLocation } from '../../diagnostics/index.ts';
import { locationAt, locationOfNode } from '../../diagnostics/location.ts';
import { displayPath, pipecRuntimeDir, type Host } from '../../host.ts';
import type { SourcePosition } from '../../ir/logical-plan.ts';
import type { LoadedProgram } from '../1-load/index.ts';

/** Maps positions in the evaluated bundle back to the user's files. */
export class FrameMapper {
  private readonly trace: TraceMap;
  constructor(private readonly bundleFile: string, map: string, private readonly host: Host) {
    this.trace = new TraceMap(map);
  }
  /** The first frame that lies in the user's own code (not pipec, not node_modules). */
  userPosition(frames: readonly StackPosition[]): SourcePosition | null {
    const bundleUrl = pathToFileURL(this.bundleFile).href;
    for (const frame of frames) {
      if (frame.file !== this.bundleFile && frame.file !== bundleUrl) continue;
      const original = originalPositionFor(this.trace, { line: frame.line, column: frame.column - 1 });
      if (!original.source || original.line === null) continue;
      const absolute = path.resolve(path.dirname(this.bundleFile), original.source);
      if (absolute.startsWith(pipecRuntimeDir) || absolute.includes(`${path.sep}node_modules${path.sep}`)) continue;
      return { file: displayPath(this.host, absolute), line: original.line, column: original.column + 1 };
    }
    return null;
  }
}

/** Parses a V8 stack string into positions (for errors thrown by the build function). */
export function framesOf(stack: string): StackPosition[] {
  const frames: StackPosition[] = [];
  for (const match of stack.matchAll(/\(?((?:file:\/\/)?\/[^():]+):(\d+):(\d+)\)?$/gm)) {
    frames.push({ file: match[1], line: Number(match[2]), column: Number(match[3]) });
  }
  return frames;
}

/**
 * The location of the construct V8 reports at `position`: a call or `new` (where a
 * timer or socket was created) or a loop head (where a paused loop was), else one character.
 */
export function locationOfConstruct(loaded: LoadedProgram, position: SourcePosition): DiagnosticLocation {
  const sourceFile = loaded.program.getSourceFile(path.resolve(loaded.host.root, position.file));
  if (!sourceFile || position.line < 1 || position.line > sourceFile.getLineStarts().length) return locationAt(loaded, position);
  const offset = sourceFile.getPositionOfLineAndCharacter(position.line - 1, position.column - 1);
  let found: DiagnosticLocation | null = null;
  const visit = (node: ts.Node): void => {
    if (found || offset < node.getStart(sourceFile) || offset >= node.getEnd()) return;
    if (ts.isCallExpression(node) || ts.isNewExpression(node)) {
      const callee = node.expression;
      const name = ts.isPropertyAccessExpression(callee) ? callee.name : callee;
      if (name.getStart(sourceFile) === offset || node.getStart(sourceFile) === offset) found = locationOfNode(loaded.host, node);
    } else if (ts.isIterationStatement(node, false) && node.getStart(sourceFile) === offset) {
      // The loop's head: `while (n !== 1000)`, not its body.
      const head = sourceFile.text.slice(offset, node.statement.getStart(sourceFile)).trimEnd();
      found = { ...locationOfNode(loaded.host, node), length: ts.isDoStatement(node) ? 2 : head.length };
    }
    ts.forEachChild(node, visit);
  };
  visit(sourceFile);
  return found ?? locationAt(loaded, position);
}
