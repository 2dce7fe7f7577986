import { pipeline, collection, print } from 'pipec';

export default pipeline('error-key-type', (p) => {
  p.source(collection([{ user: 'a', region: 'eu', n: 1 }]))
    .keyBy((r) => ({ user: r.user, region: r.region }))
    .sum('n')
    .sink(print());
});
