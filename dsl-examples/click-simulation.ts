// The click simulator's data, as a pure function of the record index, so a
// test can recompute exactly what the simulator sent: 50 users (60% male),
// 90% clicks, 10% deleted, one action every 50 ms of event time (20 a second).

/** One user action (the click-rank input). */
export interface UserAction { ts: string; name: string; sex: 'M' | 'F'; action: 'click' | 'scroll'; is_delete: 0 | 1 }

/** A well-mixed 32-bit hash of (i, salt), scaled to [0, 1). */
function uniform(i: number, salt: number): number {
  let h = Math.imul(i ^ 0x9e3779b9, 0x85ebca6b) ^ Math.imul(salt, 0xc2b2ae35);
  h = Math.imul(h ^ (h >>> 16), 0x7feb352d);
  h = Math.imul(h ^ (h >>> 15), 0x846ca68b);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** The i-th simulated action, with event times starting at `start` (ms). */
export function simulatedAction(i: number, start: number): UserAction {
  const user = Math.floor(uniform(i, 1) * 50);
  return {
    ts: new Date(start + i * 50).toISOString(),
    name: `user${String(user).padStart(2, '0')}`,
    sex: user < 30 ? 'M' : 'F',
    action: uniform(i, 2) < 0.9 ? 'click' : 'scroll',
    is_delete: uniform(i, 3) < 0.1 ? 1 : 0,
  };
}
