import { pipeline, file } from 'pipec';

interface Reading { sensor: string; value: number }

// Each sink writes a file this job reads: the exact path, the same path
// spelled differently, and a path the source glob matches.
export default pipeline('error-sink-overwrites-input', (p) => {
  const readings = p.source(file.csv<Reading>('data/readings.csv'));
  const logs = p.source(file.lines('logs/*.log'));
  readings.map((r) => r.sensor).sink(file.lines('data/readings.csv'));
  readings.filter((r) => r.value > 0).sink(file.csv<Reading>('./data/../data/readings.csv'));
  logs.map((l) => l.toUpperCase()).sink(file.lines('logs/upper.log'));
});
