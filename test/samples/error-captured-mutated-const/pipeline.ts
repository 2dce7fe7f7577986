// A const object that an operator changes while the job runs is mutable state
// (PC1001); one filled once at load time or in the build function is not.
import { pipeline, collection, print } from 'pipec';

const seen = new Set<string>();
const table = new Map<string, number>();
table.set('a', 1);

export default pipeline('error-captured-mutated-const', (p) => {
  table.set('b', 2);
  p.source(collection(['a', 'b', 'a']))
    .filter((s) => { if (seen.has(s)) return false; seen.add(s); return true; })
    .map((s) => `${s}${table.get(s)}`)
    .sink(print());
});
