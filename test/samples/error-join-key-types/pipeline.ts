// A window join and an interval join whose sides' keys have different types (PC1140): no key could ever match.
import { pipeline, collection, print, windows } from 'pipec';

interface Order { userId: number; ts: number; amount: number }
interface User { id: string; ts: number; name: string }

export default pipeline('error-join-key-types', (p) => {
  const orders = p.source(collection<Order>([])).assignTimestamps((o) => o.ts);
  const users = p.source(collection<User>([])).assignTimestamps((u) => u.ts);
  orders.join(users)
    .where((o) => o.userId)
    .equalTo((u) => u.id)
    .window(windows.tumbling({ size: '1m' }))
    .apply((o, u) => `${u.name} ${o.amount}`)
    .sink(print());
  orders.keyBy((o) => o.userId)
    .intervalJoin(users.keyBy((u) => u.id))
    .between('-1m', '0s')
    .process({ processElement(o, u, ctx) { ctx.emit(`${u.name} ${o.amount}`); } })
    .sink(print());
});
