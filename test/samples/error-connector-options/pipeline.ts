// Connector options are checked at build time (PC1160): an option a connector does not have (passed
// through a variable, so TypeScript's excess-property check does not see it), a missing table or key,
// a size that is not a positive integer, a start position that is none.
import { pipeline, collection, mysql, redis } from 'pipec';

interface Score { user: string; points: number }

const upsertOptions = { table: 'scores', key: ['user'] as const, batchsize: 500 };
const noKey = { table: 'scores', key: [] as Array<keyof Score> };

export default pipeline('error-connector-options', (p) => {
  const scores = p.source(collection<Score>([{ user: 'a', points: 1 }]));
  scores.sink(mysql.upsert<Score>(upsertOptions));
  scores.sink(mysql.upsert<Score>(noKey));
  scores.sink(mysql.insert<Score>({ table: 'scores', batchSize: 0 }));
  p.source(mysql.cdc<Score>({ table: 'scores', startFrom: { gtid: 7 } as unknown as { gtid: string } })).sink(redis.set({ key: (e) => e.op, value: (e) => e.op, ttl: '1m' }));
});
