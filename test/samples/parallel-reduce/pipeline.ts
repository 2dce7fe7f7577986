// Parallelism 2: keys are hash-partitioned across two instances of the keyed stage; print shows the subtask.
import { pipeline, collection, print } from 'pipec';

const words = 'a b c d e f a b c a b a'.split(' ');

export default pipeline('parallel-reduce', (p) => {
  p.source(collection(words))
    .map((w) => ({ word: w, count: 1 }))
    .keyBy((r) => r.word)
    .reduce((x, y) => ({ word: x.word, count: x.count + y.count }))
    .map((r) => `${r.word}=${r.count}`)
    .sink(print('counts'));
}, { parallelism: 2 });
