// The fusion benchmark job in pipec form: filter clicks -> map -> flatMap identity
// -> keyBy sex:name -> running count. Bounded input, so the count per key is
// kept in keyed state and emitted once at the end.
import { pipeline, collection, print } from 'pipec';
import { makeRecords } from './records.ts';

export default pipeline('fusion', (p) => {
  p.source(collection(makeRecords(Number(process.env.BENCH_RECORDS ?? 1000))))
    .filter((a) => a.action === 'click' && a.is_delete === 0)
    .map((a) => ({ name: a.name, sex: a.sex, one: 1 }))
    .flatMap((r) => [r])
    .keyBy((r) => r.sex + ':' + r.name)
    .sum('one')
    .sink(print());
});
