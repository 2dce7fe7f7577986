/**
 * `npm run bench -- <name> [--records N] [--rounds N]`: runs one benchmark.
 * Targets are ratios against a baseline run in the same process tree, reported as medians.
 */
import { parseArgs } from 'node:util';
import { fusion } from './fusion/index.ts';
import { windowsBench } from './windows/index.ts';
import { kafkaBench } from './kafka/index.ts';
import { codecBench } from './codec/index.ts';
import { kafkaClientBench } from './kafka-client/index.ts';
import { checkpointBench } from './checkpoint/index.ts';
import { mysqlBench } from './mysql/index.ts';

const { positionals, values } = parseArgs({ allowPositionals: true, options: { records: { type: 'string' }, rounds: { type: 'string' } } });
const benches: Record<string, (o: { records: number; rounds: number }) => Promise<void>> = { fusion, windows: windowsBench, kafka: kafkaBench, codec: codecBench, 'kafka-client': kafkaClientBench, checkpoint: checkpointBench, mysql: mysqlBench };
const name = positionals[0];
if (!name || !benches[name]) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--records N] [--rounds N]`);
  process.exit(2);
}
const defaults: Record<string, { records: number; rounds: number }> = { fusion: { records: 5_000_000, rounds: 9 }, windows: { records: 5_000_000, rounds: 5 }, kafka: { records: 1_000_000, rounds: 3 }, codec: { records: 200_000, rounds: 7 }, 'kafka-client': { records: 200_000, rounds: 3 }, checkpoint: { records: 200_000, rounds: 3 }, mysql: { records: 200_000, rounds: 3 } };
await benches[name]({ records: Number(values.records ?? defaults[name].records), rounds: Number(values.rounds ?? defaults[name].rounds) });
