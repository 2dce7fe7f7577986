import { pipeline, collection, print } from 'pipec';

export const job = pipeline('error-no-default-export', (p) => {
  p.source(collection([1])).sink(print());
});
