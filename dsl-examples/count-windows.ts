// Count windows: the average of every 5 readings of each sensor, and a
// sliding count window — the maximum of the last 10 readings, every 5.
//
//   npx pipec run dsl-examples/count-windows.ts
import { pipeline, file, print, windows, agg } from 'pipec';
import type { SensorReading } from './sensor-types.ts';

export default pipeline('count-windows', (p) => {
  const readings = p.source(file.jsonl<SensorReading>(process.env.SENSOR_INPUT ?? 'dsl-examples/data/sensors.jsonl'))
    .keyBy((r) => r.id);
  readings
    .window(windows.count({ size: 5 }))
    .aggregate(agg.avg((r: SensorReading) => r.temperature), (avg, { key, window }) => `avg5 ${key} #${window.id} ${avg.toFixed(2)}`)
    .sink(print());
  readings
    .window(windows.count({ size: 10, slide: 5 }))
    .aggregate(agg.max((r: SensorReading) => r.temperature), (max, { key, window }) => `max10 ${key} #${window.id} ${max}`)
    .sink(print());
});
