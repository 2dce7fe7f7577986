// A collection unioned with a keyed aggregate of a Kafka topic lands in the
// stage that reads the repartition topic: local.mjs runs it, a stage worker
// cannot (PC2002, a warning).
import { pipeline, kafka, collection, print } from 'pipec';

interface Score { user: string; n: number }

export default pipeline('warning-mixed-worker-sources', (p) => {
  const totals = p.source(kafka.source<Score>({ topic: 'scores', format: 'json' })).keyBy((s) => s.user).sum('n');
  p.source(collection<Score>([{ user: 'ann', n: 0 }])).union(totals).sink(print());
});
