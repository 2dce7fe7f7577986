// The lowest temperature per sensor over the last 15 s, every 5 s (Flink's
// sliding-window example), in event time with 1 s of allowed out-of-orderness.
//
//   npx pipec run dsl-examples/min-temperature.ts
import { pipeline, file, print, windows, agg } from 'pipec';
import type { SensorReading } from './sensor-types.ts';

export default pipeline('min-temperature', (p) => {
  p.source(file.jsonl<SensorReading>(process.env.SENSOR_INPUT ?? 'dsl-examples/data/sensors.jsonl'))
    .assignTimestamps((r) => r.ts, { maxOutOfOrderness: '1s' })
    .keyBy((r) => r.id)
    .window(windows.sliding({ size: '15s', slide: '5s' }))
    .aggregate(agg.min((r: SensorReading) => r.temperature), (min, { key, window }) => ({ id: key, start: window.start, end: window.end, min }))
    .sink(print());
}, { mode: 'streaming' });
