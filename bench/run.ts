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
import { joinsBench } from './joins/index.ts';
import { asyncBench } from './async/index.ts';
import { peersBench } from './peers/index.ts';
import { mysqlBench } from './mysql/index.ts';
import { startupBench } from './startup/index.ts';

type Bench = (o: { records: number; rounds: number }) => Promise<void>;

/** Each benchmark with its default size (one line each). */
const benches: Record<string, { run: Bench; records: number; rounds: number }> = {
  fusion: { run: fusion, records: 5_000_000, rounds: 9 },
  windows: { run: windowsBench, records: 5_000_000, rounds: 5 },
  kafka: { run: kafkaBench, records: 1_000_000, rounds: 3 },
  codec: { run: codecBench, records: 200_000, rounds: 7 },
  'kafka-client': { run: kafkaClientBench, records: 200_000, rounds: 3 },
  checkpoint: { run: checkpointBench, records: 1_000_000, rounds: 3 },
  joins: { run: joinsBench, records: 1_000_000, rounds: 5 },
  async: { run: asyncBench, records: 200_000, rounds: 3 },
  peers: { run: peersBench, records: 1_000_000, rounds: 3 },
  mysql: { run: mysqlBench, records: 200_000, rounds: 3 },
  startup: { run: startupBench, records: 0, rounds: 7 },
};

const { positionals, values } = parseArgs({ allowPositionals: true, options: { records: { type: 'string' }, rounds: { type: 'string' } } });
const bench = benches[positionals[0]];
if (!bench) {
  console.error(`usage: npm run bench -- <${Object.keys(benches).join('|')}> [--records N] [--rounds N]`);
  process.exit(2);
}
await bench.run({ records: Number(values.records ?? bench.records), rounds: Number(values.rounds ?? bench.rounds) });
