/**
 * The one place that turns a diagnostic into text: `file:line:col - error CODE:
 * message`, a code frame with `~~~` under the span, and the hint.
 */
import type { Diagnostic } from './types.ts';

/** Formats one diagnostic for a terminal (no colour, so logs and CI read the same). */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.file ? `${d.file}:${d.line}:${d.column} - ` : '';
  const lines = [`${where}${d.category} ${d.code}: ${d.message}`];
  if (d.lineText !== null && d.line > 0) {
    const gutter = String(d.line);
    const text = d.lineText.replace(/\t/g, ' ');
    const width = Math.max(1, Math.min(d.length, text.length - (d.column - 1)));
    lines.push('', `${gutter} ${text}`, `${' '.repeat(gutter.length)} ${' '.repeat(d.column - 1)}${'~'.repeat(width)}`);
  }
  if (d.hint) lines.push('', `  ${d.hint}`);
  return lines.join('\n') + '\n';
}

/** Formats a list, with a closing count line. */
export function formatDiagnostics(list: readonly Diagnostic[]): string {
  const errors = list.filter((d) => d.category === 'error').length;
  const warnings = list.length - errors;
  const summary = [errors ? `${errors} error${errors > 1 ? 's' : ''}` : '', warnings ? `${warnings} warning${warnings > 1 ? 's' : ''}` : ''].filter(Boolean).join(', ');
  return list.map(formatDiagnostic).join('\n') + (summary ? `\nFound ${summary}.\n` : '');
}
