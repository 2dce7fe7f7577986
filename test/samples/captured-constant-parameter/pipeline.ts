// Parameters of a function that builds the pipeline are constants when nothing
// assigns them, and so is a table filled once at load time: capturing them is
// no PC1001 (the functions are called by reference).
import { pipeline, collection, print } from 'pipec';

const lookup = new Map<string, number>([['a', 1]]);
lookup.set('bb', 2);

function build(threshold: number, label: string) {
  return pipeline('captured-constant-parameter', (p) => {
    p.source(collection(['a', 'bb', 'ccc']))
      .filter((s) => s.length < threshold)
      .map((s) => `${label}${s}${lookup.get(s) ?? 0}`)
      .sink(print());
  });
}

export default build(3, 'L:');
