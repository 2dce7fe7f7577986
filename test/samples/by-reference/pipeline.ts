// Functions that use names from outside are called by reference, not inlined.
import { pipeline, collection, print } from 'pipec';
import { shout } from './helpers.ts';

const suffix = '!';

function double(n: number): number {
  return n * 2;
}

export default pipeline('by-reference', (p) => {
  p.source(collection(['x', 'y']))
    .map((s) => shout(s) + suffix)
    .map((s) => s.length)
    .map(double)
    .sink(print());
});
