// The diagnostics table: unique codes and names, categories by code range,
// every placeholder filled, and the one formatter's code frame.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { DIAGNOSTIC_TABLE, diagnostics } from '../../compiler/diagnostics/index.ts';
import { formatDiagnostic } from '../../compiler/diagnostics/format.ts';

test('codes and names are unique and well-formed', () => {
  const entries = Object.values(DIAGNOSTIC_TABLE);
  assert.equal(new Set(entries.map((e) => e.code)).size, entries.length);
  assert.equal(new Set(entries.map((e) => e.name)).size, entries.length);
  for (const e of entries) {
    assert.match(e.code, /^PC[12]\d{3}$/);
    assert.ok(e.hint.length > 0 && e.explanation.length > 20, `${e.code} needs a hint and an explanation`);
  }
  const codes = entries.map((e) => e.code);
  assert.deepEqual(codes, [...codes].sort(), 'the table is sorted by code');
});

test('factories fill placeholders and set the category from the code', () => {
  const location = { file: 'p.ts', line: 3, column: 10, length: 5, lineText: '  .map((x) => n++)' };
  const d = diagnostics.capturedMutableState(location, { operator: 'map', access: 'writes', variable: 'n', declaration: "a 'let' variable" });
  assert.equal(d.category, 'error');
  assert.equal(d.message, "The map function writes 'n' (a 'let' variable), which is declared outside it.");
  assert.doesNotMatch(d.message + d.hint, /\{\w+\}/);
  assert.equal(diagnostics.streamWithoutSink(location, { operator: 'map' }).category, 'warning');
});

test('the formatter prints file:line:col, a code frame with ~~~ under the span, and the hint', () => {
  const text = formatDiagnostic({ code: 'TS2339', category: 'error', message: "Property 'x' does not exist on type 'A'.", hint: null, file: 'pipeline.ts', line: 8, column: 27, length: 1, lineText: '    .map((a) => a.name + a.x)' });
  assert.equal(text, "pipeline.ts:8:27 - error TS2339: Property 'x' does not exist on type 'A'.\n\n8     .map((a) => a.name + a.x)\n                            ~\n");
});
