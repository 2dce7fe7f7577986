import { pipeline, collection, print } from 'pipec';

export default pipeline('error-async', (p) => {
  p.source(collection(['a']))
    .map(async (s) => s.toUpperCase())
    .sink(print());
});
