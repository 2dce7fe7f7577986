// mode 'streaming' on bounded input: every update of the rolling sum is emitted.
import { pipeline, collection, print } from 'pipec';

export default pipeline('keyed-sum-streaming', (p) => {
  p.source(collection([{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'a', n: 3 }, { k: 'a', n: 4 }]))
    .keyBy((r) => r.k)
    .sum('n')
    .sink(print());
}, { mode: 'streaming' });
