// Flink's min/max (only the field changes) versus minBy/maxBy (the whole record), streaming.
import { pipeline, collection, print } from 'pipec';

const readings = [
  { sensor: 's1', temp: 20, at: 1 },
  { sensor: 's1', temp: 18, at: 2 },
  { sensor: 's1', temp: 25, at: 3 },
  { sensor: 's1', temp: 18, at: 4 },
];

export default pipeline('rolling-min-max', (p) => {
  const keyed = p.source(collection(readings)).keyBy((r) => r.sensor);
  keyed.min('temp').map((r) => `min ${r.temp}@${r.at}`).sink(print());
  keyed.minBy('temp').map((r) => `minBy ${r.temp}@${r.at}`).sink(print());
  keyed.max('temp').map((r) => `max ${r.temp}@${r.at}`).sink(print());
  keyed.maxBy('temp').map((r) => `maxBy ${r.temp}@${r.at}`).sink(print());
}, { mode: 'streaming' });
