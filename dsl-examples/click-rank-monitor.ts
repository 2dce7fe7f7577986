// Prints the click-rank leaderboard as it changes: one line per sex and window.
//
//   node dist/click-rank-monitor/stage-0.mjs
import { pipeline, kafka, print } from 'pipec';

interface Ranking { sex: 'M' | 'F'; start: number; end: number; top: Array<{ key: string; count: number }> }

export default pipeline('click-rank-monitor', (p) => {
  p.source(kafka.source<Ranking>({ topic: process.env.CLICK_RANK_TOPIC ?? 'click_rank', format: 'json', startFrom: 'latest' }))
    .map((r) => `${r.sex} ${new Date(r.start).toISOString().slice(11, 19)}–${new Date(r.end).toISOString().slice(11, 19)}  ${r.top.map((t, i) => `${i + 1}. ${t.key} ${t.count}`).join('  ')}`)
    .sink(print('leaderboard'));
}, { mode: 'streaming' });
