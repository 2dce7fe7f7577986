// Rising-temperature alert (the Flink tutorial's TempIncreaseAlertFunction), in
// event time: per sensor, keep the last temperature and a pending timer; a rise
// with no timer pending sets one a second later, a drop cancels it, and a timer
// that fires means the temperature rose for a whole second.
//
//   npx pipec run dsl-examples/rising-temperature.ts
import { pipeline, file, print, type KeyedProcessFunction } from 'pipec';
import type { SensorReading } from './sensor-types.ts';

const alertAfterRising: KeyedProcessFunction<string, SensorReading, string> = {
  processElement(reading, ctx) {
    const last = ctx.state.value<number>('lastTemperature');
    const timer = ctx.state.value<number>('timer');
    const previous = last.value();
    last.update(reading.temperature);
    const pending = timer.value();
    if (previous !== undefined && reading.temperature < previous && pending !== undefined) {
      ctx.timers.deleteEventTime(pending);
      timer.clear();
    } else if (previous !== undefined && reading.temperature > previous && pending === undefined) {
      const at = reading.ts + 1000;
      ctx.timers.eventTime(at);
      timer.update(at);
    }
  },
  onTimer(ts, ctx) {
    ctx.emit(`${ctx.key}: temperature rose for 1 s (alert at ${ts})`);
    ctx.state.value<number>('timer').clear();
  },
};

export default pipeline('rising-temperature', (p) => {
  p.source(file.jsonl<SensorReading>(process.env.SENSOR_INPUT ?? 'dsl-examples/data/sensors.jsonl'))
    .assignTimestamps((r) => r.ts, { maxOutOfOrderness: '1s' })
    .keyBy((r) => r.id)
    .process(alertAfterRising).uid('rising-alerts')
    .sink(print());
}, { mode: 'streaming' });
