// union of two sources, a ProcessFunction with a side output, and a block-bodied lambda inlined with its returns.
import { pipeline, collection, print, sideOutput, type Context } from 'pipec';

const rejected = sideOutput<number>('rejected');

export default pipeline('union-side-output', (p) => {
  const evens = p.source(collection([2, 4, 6]));
  const odds = p.source(collection([1, 3, -5]));
  const checked = evens.union(odds).process({
    processElement(n: number, ctx: Context<number>) {
      if (n < 0) ctx.output(rejected, n);
      else ctx.emit(n);
    },
  });
  checked
    .map((n) => {
      if (n % 2 === 0) return `even ${n}`;
      const half = Math.floor(n / 2);
      return `odd ${n} (half ${half})`;
    })
    .sink(print());
  checked.getSideOutput(rejected).map((n) => `rejected ${n}`).sink(print());
});
