// Joins of bounded inputs in batch mode (local.mjs): a tumbling window join, a
// coGroup that sees keys of one side only, an interval join with an exclusive
// upper bound, and connect(...).flatMap. Every window fires once at the end;
// nothing is late.
import { pipeline, collection, print, windows, watermarks } from 'pipec';

interface View { user: string; ts: number; page: string }
interface Purchase { user: string; ts: number; item: string }

const views: View[] = [
  { user: 'ann', ts: 1_000, page: 'home' }, { user: 'bob', ts: 2_000, page: 'shoes' }, { user: 'ann', ts: 4_000, page: 'hats' },
  { user: 'ann', ts: 12_000, page: 'home' }, { user: 'cid', ts: 13_000, page: 'socks' },
];
const purchases: Purchase[] = [
  { user: 'ann', ts: 5_000, item: 'hat' }, { user: 'bob', ts: 9_000, item: 'boots' }, { user: 'dee', ts: 11_000, item: 'scarf' },
  { user: 'ann', ts: 14_000, item: 'cap' },
];

export default pipeline('joins-batch', (p) => {
  const viewed = p.source(collection(views)).assignTimestamps((v) => v.ts, watermarks.forMonotonousTimestamps());
  const bought = p.source(collection(purchases)).assignTimestamps((b) => b.ts, watermarks.forBoundedOutOfOrderness('1s'));

  viewed.join(bought)
    .where((v) => v.user).equalTo((b) => b.user)
    .window(windows.tumbling({ size: '10s' }))
    .apply((v, b, { key, window }) => `join ${key} [${window.start / 1000}s,${window.end / 1000}s): viewed ${v.page}, bought ${b.item}`)
    .sink(print());

  viewed.coGroup(bought)
    .where((v) => v.user).equalTo((b) => b.user)
    .window(windows.tumbling({ size: '10s' }))
    .apply((vs, bs, { key, window }) => [`coGroup ${key} [${window.start / 1000}s,${window.end / 1000}s): ${vs.length} views, ${bs.length} purchases`])
    .sink(print());

  viewed.keyBy((v) => v.user)
    .intervalJoin(bought.keyBy((b) => b.user))
    .between('0s', '2s').upperBoundExclusive()
    .process({ processElement(v, b, ctx) { ctx.emit(`interval ${ctx.key}: ${v.page} then ${b.item} within 2 s (at ${ctx.timestamp})`); } })
    .uid('view-then-buy')
    .sink(print());

  viewed.connect(bought)
    .flatMap((v) => (v.page === 'home' ? [] : [`page ${v.page}`]), (b) => [`item ${b.item}`, `user ${b.user}`])
    .sink(print());
});
