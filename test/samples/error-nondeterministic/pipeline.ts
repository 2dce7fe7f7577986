import { pipeline, collection, print } from 'pipec';

export default pipeline('error-nondeterministic', (p) => {
  p.source(collection([1, 2]))
    .map((n) => ({ n, id: Math.random(), at: Date.now() }))
    // pipec-ignore PC1002: a deliberate sample, allowed
    .map((r) => ({ ...r, sampled: Math.random() < 0.5 }))
    .sink(print());
});
