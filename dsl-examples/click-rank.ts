// A live leaderboard: the top 10 clickers per sex over the last 60 s, updated
// every second (the origin documents' PyFlink job). Kafka in and out; run the
// simulator for input and the monitor to watch it:
//
//   npm run kafka:up && export PIPEC_KAFKA_BROKERS=127.0.0.1:19092
//   npx pipec build dsl-examples/click-rank.ts && npx pipec build dsl-examples/click-simulator.ts && npx pipec build dsl-examples/click-rank-monitor.ts
//   node dist/click-simulator/stage-0.mjs &  node dist/click-rank/stage-0.mjs &  node dist/click-rank/stage-1.mjs &
//   node dist/click-rank-monitor/stage-0.mjs
import { pipeline, kafka, windows, agg } from 'pipec';
import type { UserAction } from './click-simulation.ts';

export default pipeline('click-rank', (p) => {
  p.source(kafka.source<UserAction>({ topic: process.env.USER_ACTION_TOPIC ?? 'user_action', format: 'json' }))
    .filter((a) => a.action === 'click' && a.is_delete === 0)
    .assignTimestamps((a) => Date.parse(a.ts), { maxOutOfOrderness: '2s' })
    .keyBy((a) => a.sex)
    .window(windows.sliding({ size: '60s', slide: '1s' }))
    .aggregate(agg.topN(10, (a: UserAction) => a.name), (top, { key, window }) => ({
      sex: key, start: window.start, end: window.end, top,
    }))
    .sink(kafka.sink({ topic: process.env.CLICK_RANK_TOPIC ?? 'click_rank', format: 'json' }));
});
