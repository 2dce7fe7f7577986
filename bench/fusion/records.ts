/** The benchmark input: deterministic user actions (50 users, 90% clicks, 10% deleted), shared by every variant. */

/** One user action, as in the click-rank example. */
export interface UserAction { ts: string; name: string; sex: 'M' | 'F'; action: 'click' | 'scroll'; is_delete: 0 | 1 }

/**
 * `count` actions from a fixed-seed generator. With `--expose-gc` (the bench
 * runs every variant so) the heap is collected once the input is built: the
 * major collection of ~500 MB of input then lands before every variant's timed
 * part, not inside some and outside others depending on start-up allocations.
 */
export function makeRecords(count: number): UserAction[] {
  const records: UserAction[] = new Array(count);
  let seed = 42;
  const next = () => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296; };
  for (let i = 0; i < count; i++) {
    const user = Math.floor(next() * 50);
    records[i] = {
      ts: '2026-11-22 10:00:00', name: `user${user}`, sex: user < 30 ? 'M' : 'F',
      action: next() < 0.9 ? 'click' : 'scroll', is_delete: next() < 0.1 ? 1 : 0,
    };
  }
  (globalThis as { gc?: () => void }).gc?.();
  return records;
}
