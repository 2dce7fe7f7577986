// asyncMap ends the fused chain that feeds it; its results continue in a
// chain of their own (emitN), in input order (ordered, the default) although
// later calls finish first here.
import { pipeline, collection, print } from 'pipec';

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

export default pipeline('async-map', (p) => {
  p.source(collection(['flink', 'pyflink', 'pipec', 'kafka']))
    .filter((word) => word.length > 0)
    .asyncMap(async (word) => {
      await delay(40 - word.length * 5);
      return word.toUpperCase();
    }, { capacity: 2, timeout: '5s' })
    .map((word) => `${word}!`)
    .sink(print());
});
