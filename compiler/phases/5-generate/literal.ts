/**
 * Settings as JavaScript literals in generated code (`{ maxOutOfOrderness: 2000 }`):
 * plain JSON data written the way a person would, so a reader of a stage
 * module sees each operator's settings where it is created.
 */

/** The literal text of a JSON-like value; identifier keys are unquoted. */
export function literal(value: unknown): string {
  if (value === undefined) return 'undefined';
  if (value === null || typeof value !== 'object') return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(literal).join(', ')}]`;
  const entries = Object.entries(value).filter(([, v]) => v !== undefined);
  if (entries.length === 0) return '{}';
  const key = (k: string) => (/^[A-Za-z_$][\w$]*$/.test(k) && k !== '__proto__' ? k : JSON.stringify(k));
  return `{ ${entries.map(([k, v]) => `${key(k)}: ${literal(v)}`).join(', ')} }`;
}
