// Batch word count over a text file (Flink's WordCount). Every source is
// bounded, so this runs in batch mode: the rolling sum emits one final count
// per word instead of every intermediate value.
//
//   npx pipec run dsl-examples/wordcount.ts
//   WORDCOUNT_INPUT=other.txt npx pipec run dsl-examples/wordcount.ts
import { pipeline, file, print } from 'pipec';

export default pipeline('wordcount', (p) => {
  p.source(file.lines(process.env.WORDCOUNT_INPUT ?? 'dsl-examples/data/wordcount.txt'))
    .flatMap((line) => line.toLowerCase().split(/[^a-z0-9]+/))
    .filter((word) => word.length > 0)
    .map((word) => ({ word, count: 1 }))
    .keyBy((entry) => entry.word)
    .sum('count')
    .map((entry) => `${entry.word},${entry.count}`)
    .sink(print());
});
