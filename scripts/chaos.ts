// `npm run chaos`: the fault scenario of test/faults.test.ts, larger — at least
// 20 SIGKILLs over 200,000 records, with SIGTERM rolling restarts, scale out
// and in, and zombies — against the repo's broker (started when
// PIPEC_KAFKA_BROKERS is not set). Prints the figures; exits 1 unless the
// committed output equals the expected result exactly.
//   npm run chaos -- [--records N] [--seed N]
import fs from 'node:fs';
import { parseArgs } from 'node:util';
import { runFaultScenario, type FaultAction } from '../test/fault-harness.ts';

const { values } = parseArgs({ options: { records: { type: 'string' }, seed: { type: 'string' } } });
const records = Number(values.records ?? 200_000);
const seed = Number(values.seed ?? Math.floor(Math.random() * 1e9));
const pattern: FaultAction[] = ['kill', 'kill', 'sigterm-rolling', 'kill', 'scale-out', 'kill', 'kill', 'zombie', 'kill', 'scale-in', 'kill', 'kill'];
const actions: FaultAction[] = [];
while (actions.filter((a) => a === 'kill').length < 22) actions.push(...pattern);
const report = await runFaultScenario({ records, chunks: actions.length + 2, actions, seed, log: (line) => process.stderr.write(`${line}\n`) });
const failed = report.windows.missing.length + report.windows.extra.length + report.totals.missing.length + report.totals.extra.length;
const slowExits = report.sigtermExits.filter((e) => e.code !== 0 || e.ms >= 10_000);
console.log(JSON.stringify({
  seed, records: report.records, kills: report.kills, seconds: Math.round(report.seconds),
  windows: { expected: report.windows.expected, missing: report.windows.missing.length, duplicated: report.windows.extra.length - report.windows.wrong.length, wrong: report.windows.wrong.length },
  totals: { expected: report.totals.expected, missing: report.totals.missing.length, extra: report.totals.extra.length },
  fullStates: report.materializations,
  sigterm: { exits: report.sigtermExits.length, slowest: Math.max(0, ...report.sigtermExits.map((e) => e.ms)), notZero: report.sigtermExits.filter((e) => e.code !== 0).length },
}, null, 2));
if (failed || slowExits.length) {
  fs.writeFileSync('chaos-logs.txt', report.logs);
  console.error('the output differs from the expected result (worker logs in chaos-logs.txt)');
  process.exit(1);
}
