// Connectors and options whose runtime is not in this release are refused at build time.
import { pipeline, collection, kafka, mysql, redis } from 'pipec';

interface Score { user: string; points: number }

export default pipeline('error-not-supported', (p) => {
  const scores = p.source(collection<Score>([{ user: 'a', points: 1 }]));
  scores.sink(mysql.upsert<Score>({ table: 'scores', key: ['user'] }));
  scores.sink(redis.set<Score>({ key: (s) => s.user, value: (s) => String(s.points) }));
  p.source(kafka.source<Score>({ topic: 'scores', format: 'json', startFrom: { timestamp: 1_700_000_000_000 } })).sink(kafka.sink({ topic: 'copy', format: 'json' }));
});
