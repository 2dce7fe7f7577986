import { pipeline, collection, print } from 'pipec';

export default pipeline('error-build-throws', (p) => {
  const stream = p.source(collection([1]));
  if (!process.env.PIPEC_NEVER_SET) throw new Error('INPUT is not configured');
  stream.sink(print());
});
