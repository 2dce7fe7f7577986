import { pipeline, collection, print } from 'pipec';

let seen = 0;
const totals = new Map<string, number>();
totals.set('x', 0);

export default pipeline('error-captured-let', (p) => {
  p.source(collection(['a', 'b']))
    .map((s) => `${s}${++seen}`)
    .filter((s) => totals.has(s))
    .sink(print());
});
