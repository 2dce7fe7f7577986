// Exactly-once through faults on the real broker (see fault-harness.ts): random
// SIGKILLs with restarts, a SIGTERM rolling restart, scale out and in, and a
// zombie; the committed output equals the expected result exactly. `npm run
// chaos` runs the same scenario larger.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { test } from 'node:test';
import { runFaultScenario } from './fault-harness.ts';

test('kill -9, SIGTERM rolling restart, scale out and in, and a zombie: the output equals the expected result exactly', { timeout: 600_000 }, async () => {
  const seed = Number(process.env.FAULT_SEED ?? Math.floor(Math.random() * 1e9));
  const report = await runFaultScenario({
    records: 30_000, chunks: 14, seed,
    actions: ['kill', 'kill', 'sigterm-rolling', 'kill', 'scale-out', 'kill', 'zombie', 'kill', 'scale-in', 'kill', 'kill'],
    log: (line) => process.stderr.write(`  ${line}\n`),
  });
  const summary = `seed ${seed}: ${report.kills} kills; windows ${report.windows.expected} expected, ${report.windows.missing.length} missing, ${report.windows.extra.length} extra (${report.windows.wrong.length} wrong); totals ${report.totals.expected} expected, ${report.totals.missing.length} missing, ${report.totals.extra.length} extra; ${report.materializations} full states; ${report.seconds.toFixed(0)} s`;
  process.stderr.write(`  ${summary}\n`);
  const ok = report.windows.missing.length + report.windows.extra.length + report.totals.missing.length + report.totals.extra.length === 0;
  if (!ok) fs.writeFileSync('/tmp/pipec-fault-logs.txt', report.logs);
  assert.deepEqual({ missing: report.windows.missing.slice(0, 10), extra: report.windows.extra.slice(0, 10) }, { missing: [], extra: [] }, `windows: ${summary}`);
  assert.deepEqual({ missing: report.totals.missing.slice(0, 10), extra: report.totals.extra.slice(0, 10) }, { missing: [], extra: [] }, `totals: ${summary}`);
  assert.ok(report.materializations > 0, `tasks wrote full states during the faults, not only deltas: ${summary}`);
  for (const exit of report.sigtermExits) {
    assert.equal(exit.code, 0, `a stage-${exit.stage} worker exits 0 on SIGTERM`);
    assert.ok(exit.ms < 10_000, `a stage-${exit.stage} worker exits within 10 s of SIGTERM (took ${exit.ms} ms)`);
  }
});
