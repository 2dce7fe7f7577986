// filter -> map -> flatMap (array literal) fused into one function with the bodies inlined.
import { pipeline, collection, print } from 'pipec';

interface Action { name: string; sex: 'M' | 'F'; action: 'click' | 'scroll'; is_delete: 0 | 1 }

const actions: Action[] = [
  { name: 'ann', sex: 'F', action: 'click', is_delete: 0 },
  { name: 'bob', sex: 'M', action: 'scroll', is_delete: 0 },
  { name: 'cid', sex: 'M', action: 'click', is_delete: 1 },
  { name: 'dan', sex: 'M', action: 'click', is_delete: 0 },
];

export default pipeline('chain-fusion', (p) => {
  p.source(collection(actions))
    .filter((a) => a.action === 'click' && a.is_delete === 0)
    .map((a) => ({ name: a.name, sex: a.sex, one: 1 }))
    .flatMap((r) => [r])
    .map((r) => `${r.sex}:${r.name}`)
    .sink(print('out'));
});
