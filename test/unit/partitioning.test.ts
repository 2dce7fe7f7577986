// Key hashing must match Kafka's default partitioner (murmur2), so local
// channels and repartition topics send a key to the same partition.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { murmur2, partitionForKey, keyText } from '../../runtime/internal/partitioning.ts';

const bytes = (s: string) => new TextEncoder().encode(s);

test('murmur2 matches the values in Kafka UtilsTest', () => {
  assert.equal(murmur2(bytes('21')), -973932308);
  assert.equal(murmur2(bytes('foobar')), -790332482);
  assert.equal(murmur2(bytes('a-little-bit-long-string')), -985981536);
  assert.equal(murmur2(bytes('a-little-bit-longer-string')), -1486304829);
  assert.equal(murmur2(bytes('lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8')), -58897971);
  assert.equal(murmur2(bytes('abc')), 479470107);
});

test('partitions are stable, in range and spread keys', () => {
  const counts = [0, 0, 0];
  for (let i = 0; i < 3000; i++) {
    const p = partitionForKey(`user-${i}`, 3);
    assert.equal(p, partitionForKey(`user-${i}`, 3));
    counts[p]++;
  }
  for (const c of counts) assert.ok(c > 800, `unbalanced partitions ${counts}`);
  assert.equal(partitionForKey(42, 3), partitionForKey('42', 3), 'numbers hash as their decimal text');
});

test('objects are not keys', () => {
  assert.throws(() => keyText({ a: 1 }), /keys must be a string, a number or a bigint/);
});
