import { pipeline, collection, print, type Context } from 'pipec';

export default pipeline('error-metric-clash', (p) => {
  p.source(collection(['a', 'b']))
    .process({
      processElement(word: string, ctx: Context<string>) {
        ctx.metrics.counter('words', 'Words seen', ['first']).inc({ first: word[0] });
        ctx.emit(word);
      },
    })
    .process({
      processElement(word: string, ctx: Context<string>) {
        ctx.metrics.gauge('words', 'Words seen').set(1);
        ctx.metrics.counter('letters', 'Letters').inc(word.length);
        ctx.emit(word);
      },
    })
    .process({
      processElement(word: string, ctx: Context<string>) {
        ctx.metrics.counter('letters', 'Letters', ['first']).inc({ first: word[0] }, word.length);
        ctx.emit(word);
      },
    })
    .sink(print());
});
