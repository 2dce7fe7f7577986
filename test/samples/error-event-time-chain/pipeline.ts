import { pipeline, collection, print, windows } from 'pipec';

interface Click { name: string; ts: number }

export default pipeline('error-event-time-chain', (p) => {
  const clicks = p.source(collection<Click>([{ name: 'a', ts: 1 }]));
  // PC1003 points at the .window(...) call, also through a variable and .allowedLateness(...).
  const perUser = clicks
    .keyBy((c) => c.name)
    .window(windows.sliding({ size: '1m', slide: '10s' }))
    .allowedLateness('5s');
  perUser.reduce((a, b) => (a.ts > b.ts ? a : b)).sink(print());
  clicks.windowAll(windows.session({ gap: '30s' })).process((_key, _window, elements) => [[...elements].length]).sink(print());
});
