/**
 * A small code writer (after zod's core/doc.ts): lines, indentation, and for
 * each line an optional origin in the user's file, from which it builds a
 * source map. Lines without an origin map to the generated module itself.
 */
import { GenMapping, maybeAddMapping, setSourceContent, toEncodedMap } from '@jridgewell/gen-mapping';

/** Where a generated line came from: a project-relative file and 1-based line/column. */
export interface Origin { file: string; line: number; column: number }

/** Builds indented source text with a line-level source map. */
export class CodeWriter {
  /** `verbatim` lines continue a literal: they are never indented. */
  private readonly lines: Array<{ text: string; origin: Origin | null; verbatim?: boolean }> = [];
  private depth = 0;

  /** Writes one line at the current indentation. */
  line(text = '', origin: Origin | null = null): this {
    this.lines.push({ text: text === '' ? '' : '  '.repeat(this.depth) + text, origin });
    return this;
  }

  /** Writes `open`, the body one level deeper, then `close`. */
  block(open: string, body: () => void, close = '}', origin: Origin | null = null): this {
    this.line(open, origin);
    this.depth++;
    body();
    this.depth--;
    return this.line(close);
  }

  /**
   * Writes user code that may span lines, re-indented, each line mapped to its
   * line in the user's file. `literalBreaks` are the line indexes whose line
   * break lies inside a string or template literal: the text around such a
   * break is the user's data and is written exactly as it is.
   */
  snippet(text: string, origin: Origin, literalBreaks: readonly number[] = []): this {
    const raw = text.split('\n');
    const inLiteral = new Set(literalBreaks);
    const startsInLiteral = (i: number) => i > 0 && inLiteral.has(i - 1);
    const indents = raw.map((l, i) => ({ l, i })).filter(({ l, i }) => i > 0 && !startsInLiteral(i) && l.trim() !== '').map(({ l }) => /^\s*/.exec(l)![0].length);
    const common = indents.length ? Math.min(...indents) : 0;
    raw.forEach((l, i) => {
      const verbatimStart = startsInLiteral(i);
      const verbatimEnd = inLiteral.has(i);
      let text = i === 0 ? l.trimStart() : verbatimStart ? l : l.slice(common);
      if (!verbatimEnd) text = text.trimEnd();
      if (text === '' && !verbatimStart && (i === 0 || i === raw.length - 1)) return;
      const at = { file: origin.file, line: origin.line + i, column: i === 0 ? origin.column : verbatimStart ? 1 : common + 1 };
      if (verbatimStart) this.lines.push({ text, origin: at, verbatim: true });
      else this.line(text, at);
    });
    return this;
  }

  /** Runs `body` one level deeper without writing braces. */
  indented(body: () => void): this {
    this.depth++;
    body();
    this.depth--;
    return this;
  }

  /** Appends another writer's lines at this writer's indentation, keeping their origins. */
  append(other: CodeWriter): this {
    for (const l of other.lines) this.lines.push(l.verbatim ? l : { text: l.text === '' ? '' : '  '.repeat(this.depth) + l.text, origin: l.origin });
    return this;
  }

  /** Whether nothing has been written. */
  get empty(): boolean {
    return this.lines.length === 0;
  }

  /** The text (ending with a newline). */
  toString(): string {
    return this.lines.map((l) => l.text).join('\n') + '\n';
  }

  /** A v3 source map of the text: user-origin lines map to their file (through `relativeTo`), others to the generated module `self`; `contents` are embedded as sourcesContent. */
  sourceMap(self: string, relativeTo: (projectRelative: string) => string, contents: Record<string, string>): string {
    const map = new GenMapping({ file: self });
    const code = this.toString();
    setSourceContent(map, self, code);
    for (const [file, text] of Object.entries(contents)) setSourceContent(map, relativeTo(file), text);
    this.lines.forEach((l, index) => {
      const indent = l.verbatim ? 0 : l.text.length - l.text.trimStart().length;
      if (l.origin) {
        maybeAddMapping(map, { generated: { line: index + 1, column: indent }, source: relativeTo(l.origin.file), original: { line: l.origin.line, column: l.origin.column - 1 } });
      } else if (l.text !== '') {
        maybeAddMapping(map, { generated: { line: index + 1, column: indent }, source: self, original: { line: index + 1, column: indent } });
      }
    });
    return JSON.stringify(toEncodedMap(map));
  }
}
