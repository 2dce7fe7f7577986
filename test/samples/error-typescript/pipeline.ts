import { pipeline, collection, print } from 'pipec';

interface Click { name: string; sex: 'M' | 'F' }

export default pipeline('error-typescript', (p) => {
  p.source(collection<Click>([{ name: 'a', sex: 'F' }]))
    .map((a) => a.name + a.age)
    .keyBy((a) => a)
    .sum('name')
    .sink(print());
});
