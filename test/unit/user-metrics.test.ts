// User metrics (ctx.metrics) in a registry: the operator's labels and the
// user's on every series, one family per name across operators, clashes and
// bad names as MetricError, and a task's series removed when it moves.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import client from 'prom-client';
import { MetricError, UserMetrics } from '../../runtime/internal/user-metrics.ts';

function setup() {
  const registry = new client.Registry();
  registry.setDefaultLabels({ pipeline: 'orders' });
  const user = new UserMetrics(registry);
  const op = (task: string, operator = 'process', uid = 'process') => user.forOperator({ stage: '1', operator, uid, task }, `${operator} (p.ts:3:4)`);
  return { registry, user, op };
}

test('series carry the pipeline, stage, operator, uid and task labels, then the user\'s', async () => {
  const { registry, op } = setup();
  op('0').counter('orders_total', 'Orders', ['status']).inc({ status: 200 }, 2);
  op('0').gauge('queue_size', 'Queue').set(7);
  op('1').histogram('latency_ms', 'Latency', [], [1, 10, 100]).observe(5);
  const text = await registry.metrics();
  assert.match(text, /^# HELP orders_total Orders$/m);
  assert.match(text, /^orders_total\{stage="1",operator="process",uid="process",task="0",status="200",pipeline="orders"\} 2$/m);
  assert.match(text, /^queue_size\{stage="1",operator="process",uid="process",task="0",pipeline="orders"\} 7$/m);
  assert.match(text, /^latency_ms_bucket\{le="10",pipeline="orders",stage="1",operator="process",uid="process",task="1"\} 1$/m);
});

test('one name used by two operators the same way is one family with a series each', async () => {
  const { registry, op } = setup();
  op('0', 'a', 'a').counter('seen', 'Seen').inc();
  op('0', 'b', 'b').counter('seen').inc(3);
  const values = (await registry.getSingleMetric('seen')!.get()).values;
  assert.deepEqual(values.map((v) => [v.labels.operator, v.value]).sort(), [['a', 1], ['b', 3]]);
});

test('clashes, bad names and wrong label values are MetricErrors naming the operator', () => {
  const { op } = setup();
  op('0').counter('seen', 'Seen', ['status']);
  assert.throws(() => op('0', 'other', 'other').gauge('seen'), (e: unknown) => e instanceof MetricError && /already is a counter \(process \(p\.ts:3:4\)\)/.test(e.message));
  assert.throws(() => op('0').counter('seen', 'Seen', ['code']), /already has the labels \[status\]/);
  assert.throws(() => op('0').counter('seen', 'Other help', ['status']), /already has the help text "Seen"/);
  assert.throws(() => op('0').counter('orders-total'), /not a Prometheus metric name/);
  assert.throws(() => op('0').counter('pipec_mine'), /pipec's own/);
  assert.throws(() => op('0').counter('by_task', 'x', ['task']), /a label pipec gives every user metric/);
  const seen = op('0').counter('seen', 'Seen', ['status']);
  assert.throws(() => seen.inc(), /has the labels \[status\]: every call gives/);
  assert.throws(() => seen.inc({ status: 1, other: 2 } as never), /has the labels \[status\]/);
});

test('removeTask drops the series of one task and keeps the others; the moved task\'s operators write nothing more, a new task of that index does', async () => {
  const { registry, user, op } = setup();
  const moved = op('0');
  moved.counter('seen', 'Seen', ['status']).inc({ status: 'a' });
  moved.counter('seen', 'Seen', ['status']).inc({ status: 'b' });
  op('1').counter('seen', 'Seen', ['status']).inc({ status: 'a' });
  moved.gauge('size').set(1);
  user.removeTask('0');
  let text = await registry.metrics();
  assert.doesNotMatch(text, /task="0"/);
  assert.match(text, /^seen\{[^}]*task="1",status="a"[^}]*\} 1$/m);
  moved.counter('seen', 'Seen', ['status']).inc({ status: 'a' }); // a late completion of the stopping task
  assert.doesNotMatch(await registry.metrics(), /task="0"/);
  op('0').counter('seen', 'Seen', ['status']).inc({ status: 'c' }); // the partition came back: a new task
  text = await registry.metrics();
  assert.match(text, /^seen\{[^}]*task="0",status="c"[^}]*\} 1$/m);
});
