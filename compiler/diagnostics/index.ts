/**
 * Diagnostic factories: one typed function per code in the table, taking the
 * template's placeholders and a location. `diagnostics.capturedMutableState(loc, {...})`.
 */
import { DIAGNOSTIC_TABLE, type DiagnosticName } from './messages.ts';
import type { Diagnostic, DiagnosticLocation } from './types.ts';

export type { Diagnostic, DiagnosticLocation } from './types.ts';
export { NO_LOCATION } from './types.ts';
export { DIAGNOSTIC_TABLE } from './messages.ts';

/** `{name}` placeholders of a template; braces around code (`{ a: 1 }`) are not placeholders. */
type Placeholders<S extends string> = S extends `${string}{${infer P}}${infer Rest}` ? (P extends `${string}${' ' | ':' | "'" | '.'}${string}` ? never : P) | Placeholders<Rest> : never;
type ArgsOf<N extends DiagnosticName> = Record<Placeholders<(typeof DIAGNOSTIC_TABLE)[N]['message'] | (typeof DIAGNOSTIC_TABLE)[N]['hint']>, string>;

function fill(template: string, args: Record<string, string>): string {
  return template.replace(/\{(\w+)\}/g, (_m, key: string) => args[key] ?? `{${key}}`);
}

function factory<N extends DiagnosticName>(name: N) {
  const definition = DIAGNOSTIC_TABLE[name];
  return (location: DiagnosticLocation, args: ArgsOf<N>): Diagnostic => ({
    code: definition.code,
    category: definition.code.startsWith('PC2') ? 'warning' : 'error',
    message: fill(definition.message, args as Record<string, string>),
    hint: fill(definition.hint, args as Record<string, string>),
    ...location,
  });
}

/** One factory per diagnostic in the table. */
export const diagnostics: { [N in DiagnosticName]: (location: DiagnosticLocation, args: ArgsOf<N>) => Diagnostic } =
  Object.fromEntries(Object.keys(DIAGNOSTIC_TABLE).map((name) => [name, factory(name as DiagnosticName)])) as never;

/** True when any diagnostic is an error. */
export function hasErrors(list: readonly Diagnostic[]): boolean {
  return list.some((d) => d.category === 'error');
}
