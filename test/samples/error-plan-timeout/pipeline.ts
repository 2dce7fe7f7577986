import { pipeline, collection, print } from 'pipec';

export default pipeline('error-plan-timeout', (p) => {
  // Meant to stop at 1000, but doubling from 1 (mod 4096) never gives 1000.
  let n = 1;
  while (n !== 1000) n = (n * 2) % 4096;
  p.source(collection([n])).sink(print());
});
