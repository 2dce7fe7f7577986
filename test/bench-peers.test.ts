// The peers benchmark's own check (bench/peers), at a small size, against the
// real broker and the real Kafka Streams app: on each workload, under both
// guarantees, pipec's stage workers, Kafka Streams and (stateless) the
// hand-written loops each output exactly the workload's expected records,
// computed independently by the benchmark — so they output the same as each
// other. No timing assertions (the figures are `npm run bench -- peers`'s).
// Also: the digest the outputs are compared by notices a missing, duplicated
// or changed record, and the expected outputs follow from the input.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { runPeers } from '../bench/peers/index.ts';
import { event, expectedDigest, expectedOutput, inputRecords, OutputDigest, PARTITIONS, sentinels, WINDOW_MS, WORKLOADS } from '../bench/peers/records.ts';
import { GUARANTEES, SYSTEMS } from '../bench/peers/systems.ts';

const RECORDS = 2000;

test('pipec, Kafka Streams and the hand-written loops give the expected output on every peers workload, under both guarantees', { timeout: 600_000 }, async () => {
  const { results } = await runPeers({ records: RECORDS, rounds: 1, say: () => undefined });
  for (const workload of WORKLOADS) {
    const expected = expectedDigest(workload, RECORDS).value;
    for (const guarantee of GUARANTEES) {
      const runs = results.filter((r) => r.workload === workload && r.guarantee === guarantee);
      const systems = workload === 'stateless' ? SYSTEMS : SYSTEMS.filter((s) => !s.endsWith('-loop'));
      assert.deepEqual(runs.map((r) => r.system).sort(), [...systems].sort(), `${workload}, ${guarantee}: the systems that ran`);
      for (const r of runs) assert.equal(r.digest, expected, `${r.system}'s output of ${workload} under ${guarantee}`);
    }
  }
});

test('the output digest is order-independent and notices a missing, duplicated or changed record', () => {
  const records = [...expectedOutput('count', 500)].map(([k, v]) => [Buffer.from(k), Buffer.from(v)] as const);
  const digestOf = (list: ReadonlyArray<readonly [Buffer, Buffer]>) => { const d = new OutputDigest(); for (const [k, v] of list) d.add(k, v); return d.value; };
  const reference = digestOf(records);
  assert.equal(digestOf([...records].reverse()), reference);
  assert.notEqual(digestOf(records.slice(1)), reference);
  assert.notEqual(digestOf([...records, records[7]]), reference);
  // The same record count: one record's count swapped for a neighbour's duplicate.
  assert.notEqual(digestOf([...records.slice(0, 3), records[4], ...records.slice(4)]), reference);
  const changed = records.map(([k, v], i) => (i === 9 ? [k, Buffer.from(v.toString().replace('"count":', '"count": '))] as const : [k, v] as const));
  assert.notEqual(digestOf(changed), reference);
});

test('the expected outputs follow from the input: filtered events, running counts, every real window closed', () => {
  const records = 3000;
  const input = [...inputRecords(records)];
  const all = [...Array.from({ length: records }, (_, i) => event(i, records)), ...sentinels(records)];
  assert.equal(input.length, records + PARTITIONS);
  // One sentinel per partition, each after every real event of its partition.
  assert.deepEqual(new Set(input.slice(records).map((r) => r.partition)), new Set(Array.from({ length: PARTITIONS }, (_, p) => p)));
  const lastTs = Math.max(...all.slice(0, records).map((e) => e.ts));
  for (const s of sentinels(records)) assert.ok(s.ts >= lastTs - (lastTs % WINDOW_MS) + WINDOW_MS, 'a sentinel closes the last real window');
  // Within a partition, event time never goes back (no record is late in either system).
  for (let p = 0; p < PARTITIONS; p++) {
    const ts = input.filter((r) => r.partition === p).map((r) => (JSON.parse(r.value) as { ts: number }).ts);
    assert.ok(ts.every((t, i) => i === 0 || t >= ts[i - 1]), `partition ${p} is in time order`);
  }
  assert.equal([...expectedOutput('stateless', records)].length, all.filter((e) => e.action !== 'noise').length);
  // Counts: each user's records 1..n once.
  const counts = new Map<string, number[]>();
  for (const [user, value] of expectedOutput('count', records)) counts.set(user, [...(counts.get(user) ?? []), (JSON.parse(value) as { count: number }).count]);
  for (const [user, list] of counts) assert.deepEqual(list, Array.from({ length: all.filter((e) => e.user === user).length }, (_, i) => i + 1), user);
  // Windows: the counts of a user's windows add up to the user's real events.
  const windowed = new Map<string, number>();
  for (const [user, value] of expectedOutput('window', records)) windowed.set(user, (windowed.get(user) ?? 0) + (JSON.parse(value) as { count: number }).count);
  for (const e of all) if (!e.user.startsWith('~')) windowed.set(e.user, windowed.get(e.user)! - 1);
  assert.ok([...windowed.values()].every((n) => n === 0));
});
