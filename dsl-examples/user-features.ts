// Per-user features from three streams joined in event time (what a model
// serving ads or recommendations reads): for each user and minute, the ads
// shown (impressions), the clicks and the orders, with the click-through rate
// and the revenue; and each order attributed to the user's clicks in the
// 30 seconds before it.
//
// - impressions.coGroup(clicks): one record per user and minute that had
//   either (a coGroup, unlike a join, also sees a user with impressions and no
//   clicks), carrying the window's last timestamp;
// - .coGroup(orders) in the same minute windows adds the orders;
// - clicks.keyBy(user).intervalJoin(orders.keyBy(user)).between('0s', '30s'):
//   every order placed within 30 seconds after a click of the same user.
//
//   npx pipec run dsl-examples/user-features.ts
import { pipeline, file, print, windows, watermarks } from 'pipec';

interface Click { user: string; ts: number; url: string }
interface Impression { user: string; ts: number; slot: string }
interface Order { user: string; ts: number; item: string; amount: number }
interface Engagement { user: string; impressions: number; clicks: number }

const data = process.env.FEATURES_DATA ?? 'dsl-examples/data';

export default pipeline('user-features', (p) => {
  const clicks = p.source(file.jsonl<Click>(`${data}/clicks.jsonl`)).name('clicks')
    .assignTimestamps((c) => c.ts, watermarks.forBoundedOutOfOrderness('5s'));
  const impressions = p.source(file.jsonl<Impression>(`${data}/impressions.jsonl`)).name('impressions')
    .assignTimestamps((i) => i.ts, watermarks.forBoundedOutOfOrderness('5s').withIdleness('1m'));
  const orders = p.source(file.jsonl<Order>(`${data}/orders.jsonl`)).name('orders')
    .assignTimestamps((o) => o.ts, watermarks.forMonotonousTimestamps());

  const engagement = impressions.coGroup(clicks)
    .where((i) => i.user).equalTo((c) => c.user)
    .window(windows.tumbling({ size: '1m' }))
    .apply((shown, clicked, { key }): Engagement[] => [{ user: key, impressions: shown.length, clicks: clicked.length }])
    .uid('engagement-per-minute');

  engagement.coGroup(orders)
    .where((e) => e.user).equalTo((o) => o.user)
    .window(windows.tumbling({ size: '1m' }))
    .apply((seen, bought, { key, window }) => {
      const impressionCount = seen.reduce((n, e) => n + e.impressions, 0);
      const clickCount = seen.reduce((n, e) => n + e.clicks, 0);
      return [{
        user: key, minute: new Date(window.start).toISOString().slice(11, 16),
        impressions: impressionCount, clicks: clickCount, ctr: impressionCount ? Math.round((clickCount / impressionCount) * 100) / 100 : null,
        orders: bought.length, revenue: bought.reduce((sum, o) => sum + o.amount, 0),
      }];
    })
    .uid('features-per-minute')
    .sink(print('features'));

  clicks.keyBy((c) => c.user)
    .intervalJoin(orders.keyBy((o) => o.user))
    .between('0s', '30s')
    .process({
      processElement(click, order, ctx) {
        ctx.emit({ user: ctx.key, clicked: click.url, bought: order.item, secondsAfter: (order.ts - click.ts) / 1000 });
      },
    })
    .uid('orders-after-clicks')
    .sink(print('attributed'));
});
