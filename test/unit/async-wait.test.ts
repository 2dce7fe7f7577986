// The AsyncWaitOperator on its own, with calls the test completes by hand and
// a manual clock: the order results leave in, the watermarks held behind
// them, capacity, timeouts, the queue as its checkpointed state holds it, and
// a restore that makes the checkpointed calls again in order.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AsyncTimeoutError, AsyncWaitOperator, QUEUE_KEY, type QueuedEntry } from '../../runtime/internal/operators/async-wait.ts';
import { ManualTime } from '../../runtime/internal/time.ts';

interface Harness {
  operator: AsyncWaitOperator;
  /** What left, in order: results, failures and watermarks. */
  out: string[];
  /** The calls made, by input, to complete by hand. */
  calls: Map<string, { resolve(v: string): void; reject(e: Error): void }>;
  made: string[];
  state: Map<unknown, QueuedEntry[]>;
  time: ManualTime;
}

async function harness(options: { capacity?: number; ordered?: boolean; timeout?: number; restored?: QueuedEntry[] } = {}): Promise<Harness> {
  const out: string[] = [];
  const calls = new Map<string, { resolve(v: string): void; reject(e: Error): void }>();
  const made: string[] = [];
  const state = new Map<unknown, QueuedEntry[]>();
  if (options.restored) state.set(QUEUE_KEY, options.restored);
  const time = new ManualTime(0);
  const operator = new AsyncWaitOperator({
    fn: (value) => new Promise((resolve, reject) => { const key = typeof value === 'string' ? value : JSON.stringify(value); made.push(key); calls.set(key, { resolve, reject }); }),
    spec: { capacity: options.capacity ?? 10, timeout: options.timeout ?? 1000, ordered: options.ordered ?? true },
    emit: (value, ts) => out.push(`${String(value)}@${ts}`),
    state,
    time,
    watermark: { advance: (wm) => out.push(`wm ${wm}`), setIdle: (idle) => out.push(idle ? 'idle' : 'active') },
    enter: (work) => work(),
    completed: (_position, _value, send) => send(),
    failed: (_position, value, error) => out.push(`failed ${String(value)}: ${error instanceof AsyncTimeoutError ? 'timeout' : (error as Error).message}`),
  });
  await operator.open();
  operator.start();
  return { operator, out, calls, made, state, time };
}

const settle = () => new Promise((resolve) => setImmediate(resolve));

test('ordered: results leave in input order, and a watermark only after the records before it', async () => {
  const h = await harness();
  h.operator.processElement('a', 1);
  h.operator.processElement('b', 2);
  h.operator.onWatermark(2);
  h.operator.processElement('c', 3);
  h.calls.get('c')!.resolve('C');
  h.calls.get('b')!.resolve('B');
  await settle();
  assert.deepEqual(h.out, [], 'nothing passes a call still in flight');
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.deepEqual(h.out, ['A@1', 'B@2', 'wm 2', 'C@3']);
  assert.equal(h.operator.empty, true);
});

test('unordered: results leave as they complete, within the watermarks around them', async () => {
  const h = await harness({ ordered: false });
  h.operator.processElement('a', 1);
  h.operator.processElement('b', 2);
  h.operator.onWatermark(2);
  h.operator.onWatermark(3);
  h.operator.processElement('c', 4);
  h.calls.get('c')!.resolve('C');
  h.calls.get('b')!.resolve('B');
  await settle();
  assert.deepEqual(h.out, ['B@2'], 'b leaves at once; c waits behind the watermark');
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.deepEqual(h.out, ['B@2', 'A@1', 'wm 3', 'C@4'], 'two watermarks behind the same records leave as the later one');
});

test('capacity: no more calls in flight than capacity; full stops input until one leaves', async () => {
  const h = await harness({ capacity: 2 });
  h.operator.processElement('a', undefined);
  assert.equal(h.operator.full, false);
  h.operator.processElement('b', undefined);
  assert.equal(h.operator.full, true);
  h.operator.processElement('c', undefined); // more than capacity from one input record (a flatMap upstream): it waits for a slot
  assert.deepEqual(h.made, ['a', 'b']);
  let room = false;
  void h.operator.room().then(() => { room = true; });
  h.calls.get('b')!.resolve('B');
  await settle();
  assert.deepEqual(h.made, ['a', 'b', 'c'], 'c starts when b completes');
  assert.equal(room, false, 'ordered: b waits behind a, so the queue is still full');
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.equal(room, true);
  assert.deepEqual(h.out, ['A@undefined', 'B@undefined']);
});

test('a timeout or a rejection is a failure in its turn; a late answer is ignored', async () => {
  const h = await harness({ timeout: 100 });
  h.operator.processElement('a', 1);
  h.operator.processElement('b', 2);
  h.operator.processElement('c', 3);
  h.calls.get('b')!.reject(new Error('refused'));
  await settle();
  h.time.advanceTo(100);
  await settle();
  assert.deepEqual(h.out, ['failed a: timeout', 'failed b: refused', 'failed c: timeout']);
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.equal(h.out.length, 3);
});

test('the queue is the checkpointed state: inputs not out yet and the watermarks behind them, in order', async () => {
  const h = await harness();
  h.operator.processElement({ id: 1 }, 10);
  h.operator.onWatermark(10);
  h.operator.processElement({ id: 2 }, 20);
  assert.deepEqual(h.state.get(QUEUE_KEY), [{ record: { id: 1 }, ts: 10 }, { watermark: 10 }, { record: { id: 2 }, ts: 20 }]);
  h.calls.get('{"id":2}')!.resolve('x');
  await settle();
  assert.equal(h.state.get(QUEUE_KEY)!.length, 3, 'the second call completed, but its result waits behind the first: it is not out, so a restore makes it again');
  h.calls.get('{"id":1}')!.resolve('y');
  await settle();
  assert.deepEqual(h.state.get(QUEUE_KEY), []);
  assert.deepEqual(h.out, ['y@10', 'wm 10', 'x@20']);
});

test('a restored operator makes the checkpointed calls again, in order, and holds the watermarks where they were', async () => {
  const h = await harness({ capacity: 2, restored: [{ record: 'a', ts: 1 }, { watermark: 1 }, { record: 'b', ts: 2 }, { record: 'c', ts: 3 }] });
  assert.deepEqual(h.made, ['a', 'b'], 'up to capacity, in order');
  h.calls.get('b')!.resolve('B');
  h.calls.get('a')!.resolve('A');
  await settle();
  h.calls.get('c')!.resolve('C');
  await settle();
  assert.deepEqual(h.out, ['A@1', 'wm 1', 'B@2', 'C@3']);
});

test('idle input: the operator goes idle downstream once nothing is held back', async () => {
  const h = await harness();
  h.operator.processElement('a', 1);
  h.operator.onIdle(true);
  assert.deepEqual(h.out, []);
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.deepEqual(h.out, ['A@1', 'idle']);
  h.operator.onIdle(false);
  assert.deepEqual(h.out, ['A@1', 'idle', 'active']);
});

test('stop: nothing more leaves; what is queued stays in the state', async () => {
  const h = await harness();
  h.operator.processElement('a', 1);
  h.operator.stop();
  h.calls.get('a')!.resolve('A');
  await settle();
  assert.deepEqual(h.out, []);
  assert.deepEqual(h.state.get(QUEUE_KEY), [{ record: 'a', ts: 1 }]);
  await h.operator.drained();
});
