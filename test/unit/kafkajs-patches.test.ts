// The kafkajs modules bundles replace (compiler/esbuild/kafkajs-patches.ts)
// do exactly what kafkajs's own do: the same groups, the same CRC-32C, and
// byte for byte the same Produce requests, for keys, values and headers of
// every kind, transactional or not, with and without timestamps.
import assert from 'node:assert/strict';
import { createRequire, Module } from 'node:module';
import path from 'node:path';
import { test } from 'node:test';
import { KAFKAJS_PATCHES } from '../../compiler/esbuild/kafkajs-patches.ts';

const require = createRequire(import.meta.url);
const kafkajsRoot = path.dirname(require.resolve('kafkajs/package.json'));

/** kafkajs's own module at `file` (inside the package). */
const original = (file: string) => require(path.join(kafkajsRoot, file));

/** The patched module for `file`, evaluated where kafkajs's own lives (so its relative requires resolve the same). */
function patched(file: string): any {
  const filename = path.join(kafkajsRoot, file);
  const contents = KAFKAJS_PATCHES.find((p) => p.file === file)!.contents;
  const m = new Module(filename) as Module & { _compile(code: string, filename: string): void };
  m.filename = filename;
  m.paths = (Module as unknown as { _nodeModulePaths(dir: string): string[] })._nodeModulePaths(path.dirname(filename));
  m._compile(contents, filename);
  return m.exports;
}

test('every patched file exists in the kafkajs this build bundles', () => {
  for (const p of KAFKAJS_PATCHES) assert.ok(require.resolve(path.join(kafkajsRoot, p.file)), p.file);
});

test('the sliced CRC-32C equals kafkajs\'s byte-wise one on every length and content', () => {
  const fast = patched('src/protocol/recordBatch/crc32C/crc32C.js');
  const slow = original('src/protocol/recordBatch/crc32C/crc32C.js');
  let seed = 7;
  const rand = () => (seed = (seed * 1103515245 + 12345) >>> 0) & 0xff;
  for (let length = 0; length < 300; length++) {
    const bytes = Buffer.from(Array.from({ length }, rand));
    assert.equal(fast(bytes), slow(bytes), `length ${length}`);
  }
  // The standard check value of CRC-32C.
  assert.equal(fast(Buffer.from('123456789')), 0xe3069283);
});

test('linear grouping gives the groups kafkajs\'s quadratic one gives', () => {
  const fast = patched('src/producer/groupMessagesPerPartition.js');
  const slow = original('src/producer/groupMessagesPerPartition.js');
  const partitionMetadata = [0, 1, 2].map((partitionId) => ({ partitionId }));
  const messages = Array.from({ length: 50 }, (_, i) => ({ key: `k${i % 7}`, value: String(i), partition: i % 3 }));
  const partitioner = ({ message }: { message: { partition: number } }) => message.partition;
  assert.deepEqual(fast({ topic: 't', partitionMetadata, messages, partitioner }), slow({ topic: 't', partitionMetadata, messages, partitioner }));
  assert.deepEqual(fast({ topic: 't', partitionMetadata: [], messages, partitioner }), {});
});

test('Produce requests are byte for byte kafkajs\'s: keys, values and headers of every kind, transactional or not, timestamps given or not', async (t) => {
  const fast = patched('src/protocol/requests/produce/v3/request.js');
  const slow = original('src/protocol/requests/produce/v3/request.js');
  const Long = original('src/utils/long.js');
  const now = 1_765_000_000_000;
  t.mock.method(Date, 'now', () => now);
  const big = 'é'.repeat(300) + 'x'.repeat(70_000);
  const messages = [
    { key: 'user-1', value: '{"a":1}', timestamp: String(now - 5) },
    { key: null, value: Buffer.from([0, 1, 2, 255]), timestamp: String(now + 3) },
    { key: Buffer.from('bin'), value: null, headers: { 'pipec-watermark': 'stage-0/1' } },
    { key: 'ü', value: big, timestamp: String(now - 5000), headers: { a: ['1', Buffer.from('two')], b: 'x'.repeat(200) } },
    { key: '', value: '', timestamp: String(now + 100_000) },
  ];
  const cases = [
    { name: 'idempotent, several partitions', transactionalId: null, producerId: Long.fromValue(4711), producerEpoch: 3, topicData: [{ topic: 'in', partitions: [{ partition: 0, firstSequence: 17, messages }, { partition: 3, firstSequence: 0, messages: messages.slice(0, 2) }] }, { topic: 'out-é', partitions: [{ partition: 1, firstSequence: 5, messages: messages.slice(2) }] }] },
    { name: 'transactional', transactionalId: 'group-task-1', producerId: Long.fromValue('9007199254740'), producerEpoch: 0, topicData: [{ topic: 'changelog', partitions: [{ partition: 2, firstSequence: 2_000_000_000, messages }] }] },
    { name: 'no timestamps', transactionalId: null, producerId: Long.fromInt(-1), producerEpoch: 0, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: messages.map(({ timestamp: _, ...m }) => m) }] }] },
    { name: 'one record', transactionalId: null, producerId: Long.fromInt(-1), producerEpoch: 0, topicData: [{ topic: 't', partitions: [{ partition: 0, firstSequence: 0, messages: [messages[0]] }] }] },
  ];
  for (const c of cases) {
    const args = { acks: -1, timeout: 30000, ...c };
    const [a, b] = await Promise.all([fast(args).encode(), slow(args).encode()]);
    assert.equal(Buffer.compare(a.buffer, b.buffer), 0, c.name);
  }
});
