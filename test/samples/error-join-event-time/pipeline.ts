// Joins in event time on streams without timestamps: an event-time window join (PC1003) and an interval join (PC1141, per side).
import { pipeline, kafka, windows } from 'pipec';

interface Click { user: string; ts: number }
interface Order { user: string; ts: number; amount: number }

export default pipeline('error-join-event-time', (p) => {
  const clicks = p.source(kafka.source<Click>({ topic: 'clicks', format: 'json' }));
  const orders = p.source(kafka.source<Order>({ topic: 'orders', format: 'json' })).assignTimestamps((o) => o.ts);
  clicks.join(orders)
    .where((c) => c.user)
    .equalTo((o) => o.user)
    .window(windows.sliding({ size: '10m', slide: '1m' }))
    .apply((c, o) => ({ user: c.user, amount: o.amount }))
    .sink(kafka.sink({ topic: 'attributed', format: 'json' }));
  clicks.keyBy((c) => c.user)
    .intervalJoin(p.source(kafka.source<Order>({ topic: 'refunds', format: 'json' })).keyBy((o) => o.user))
    .between('0s', '1h')
    .process({ processElement(c, o, ctx) { ctx.emit({ user: c.user, refunded: o.amount }); } })
    .sink(kafka.sink({ topic: 'refunded', format: 'json' }));
});
