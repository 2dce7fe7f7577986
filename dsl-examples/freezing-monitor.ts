// Freezing monitor (the Flink tutorial's side-output example): every reading
// passes through; readings below 32 °F also raise an alarm on the
// 'freezing-alarms' side output.
//
//   npx pipec run dsl-examples/freezing-monitor.ts
import { pipeline, file, print, sideOutput, type Context } from 'pipec';
import type { SensorReading } from './sensor-types.ts';

const freezingAlarms = sideOutput<string>('freezing-alarms');

export default pipeline('freezing-monitor', (p) => {
  const monitored = p.source(file.jsonl<SensorReading>(process.env.SENSOR_INPUT ?? 'dsl-examples/data/sensors.jsonl'))
    .process({
      processElement(reading: SensorReading, ctx: Context<SensorReading>) {
        if (reading.temperature < 32) ctx.output(freezingAlarms, `Freezing alarm for ${reading.id} at ${reading.ts}: ${reading.temperature} °F`);
        ctx.emit(reading);
      },
    });
  monitored.sink(file.jsonl(process.env.MONITOR_OUTPUT ?? 'freezing-monitor-out/readings.jsonl'));
  monitored.getSideOutput(freezingAlarms).sink(print());
});
