// A punctuated user watermark generator (watermarks.forGenerator): an event
// marked `end` of a batch emits its timestamp as the watermark, so windows
// fire at batch ends only; its timestamp function is called by reference
// (it uses a helper), so generated code takes it from the node's
// [timestamps, generator] pair. Streaming mode: the end of the input fires the rest.
import { pipeline, collection, print, windows, agg, watermarks, type WatermarkGenerator, type WatermarkOutput } from 'pipec';

interface Reading { sensor: string; at: string; value: number; end?: boolean }

const millis = (at: string) => Date.parse(`2024-01-01T${at}Z`);

/** Watermarks only at batch ends; counts the batches it saw (a field: checkpointed with the job). */
class BatchEnds implements WatermarkGenerator<Reading> {
  batches = 0;
  onEvent(reading: Reading, timestamp: number, output: WatermarkOutput): void {
    if (reading.end) { this.batches++; output.emitWatermark(timestamp); }
  }
  onPeriodicEmit(): void {}
}

export default pipeline('watermark-generator', (p) => {
  p.source(collection<Reading>([
    { sensor: 'a', at: '00:00:01', value: 3 }, { sensor: 'b', at: '00:00:04', value: 5 }, { sensor: 'a', at: '00:00:12', value: 4, end: true },
    { sensor: 'a', at: '00:00:08', value: 1 }, { sensor: 'b', at: '00:00:15', value: 2 }, { sensor: 'b', at: '00:00:31', value: 7, end: true },
    { sensor: 'a', at: '00:00:33', value: 6 },
  ]))
    .assignTimestamps((r) => millis(r.at), watermarks.forGenerator(() => new BatchEnds()))
    .keyBy((r) => r.sensor)
    .window(windows.tumbling({ size: '10s' }))
    .aggregate(agg.sum((r: Reading) => r.value), (sum, { key, window }) => `${key} ${new Date(window.start).toISOString().slice(11, 19)} sum ${sum}`)
    .sink(print());
}, { mode: 'streaming' });
