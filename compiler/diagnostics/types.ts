/**
 * The Diagnostic record every phase reports: TypeScript's errors and pipec's
 * own (PC1xxx errors, PC2xxx warnings). Plain JSON (`pipec check --json`).
 */

/** A located problem in the user's code. */
export interface Diagnostic {
  /** `TS2339`, `PC1001`... */
  code: string;
  category: 'error' | 'warning';
  message: string;
  /** What to do instead. */
  hint: string | null;
  /** File path relative to the current directory; null for problems with no place. */
  file: string | null;
  /** 1-based. */
  line: number;
  column: number;
  /** Characters to underline. */
  length: number;
  /** The text of the line, for the code frame. */
  lineText: string | null;
}

/** Where a diagnostic points. */
export interface DiagnosticLocation {
  file: string | null; line: number; column: number; length: number; lineText: string | null;
}

/** No location: for problems with the invocation or the whole file. */
export const NO_LOCATION: DiagnosticLocation = { file: null, line: 0, column: 0, length: 0, lineText: null };
