import { pipeline, kafka, windows, agg } from 'pipec';

interface Click { name: string; ts: number }

export default pipeline('error-event-time', (p) => {
  p.source(kafka.source<Click>({ topic: 'clicks', format: 'json' }))
    .keyBy((c) => c.name)
    .window(windows.tumbling({ size: '1m' }))
    .aggregate(agg.count())
    .sink(kafka.sink({ topic: 'counts', format: 'json' }));
});
