import { pipeline, collection, print } from 'pipec';

// A cache refreshed in the background: it would keep every worker (and the build) running.
let rates: Record<string, number> = { EUR: 1 };
setInterval(() => { rates = { ...rates }; }, 60_000);

export default pipeline('error-left-open', (p) => {
  p.source(collection(['EUR']))
    .map((currency) => `${currency}`)
    .sink(print());
});
