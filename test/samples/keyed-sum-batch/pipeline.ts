// Bounded input: the rolling sum emits one final value per key (Flink's BATCH mode).
import { pipeline, collection, print } from 'pipec';

export default pipeline('keyed-sum-batch', (p) => {
  p.source(collection([{ k: 'a', n: 1 }, { k: 'b', n: 2 }, { k: 'a', n: 3 }, { k: 'a', n: 4 }]))
    .keyBy((r) => r.k)
    .sum('n')
    .sink(print());
});
