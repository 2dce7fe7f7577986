import { pipeline, collection, print, type Context } from 'pipec';

export default pipeline('error-metric-name', (p) => {
  p.source(collection(['a', 'b']))
    .process({
      processElement(word: string, ctx: Context<string>) {
        ctx.metrics.counter('words-seen', 'Words').inc();
        ctx.metrics.gauge('word_length', 'Length of the last word', ['task']).set({ task: 1 }, word.length);
        ctx.emit(word);
      },
    })
    .sink(print());
});
