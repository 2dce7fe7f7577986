// Connector options whose runtime is not in this release are refused at build time.
import { pipeline, kafka } from 'pipec';

interface Score { user: string; points: number }

export default pipeline('error-not-supported', (p) => {
  p.source(kafka.source<Score>({ topic: 'scores', format: 'json', startFrom: { timestamp: 1_700_000_000_000 } })).sink(kafka.sink({ topic: 'copy', format: 'json' }));
});
