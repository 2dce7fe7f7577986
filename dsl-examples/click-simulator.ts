// A data simulator for click-rank: 20 user actions a second from 50 users
// (60% male, 90% clicks, 10% deleted) into the `user_action` topic.
//
//   npx pipec build dsl-examples/click-simulator.ts && node dist/click-simulator/stage-0.mjs
//   SIM_COUNT=2000 SIM_RATE=1000 ... for a bounded, faster run
import { pipeline, generator, kafka } from 'pipec';
import { simulatedAction, type UserAction } from './click-simulation.ts';

export default pipeline('click-simulator', (p) => {
  const start = Number(process.env.SIM_START ?? Date.now());
  const count = process.env.SIM_COUNT ? Number(process.env.SIM_COUNT) : undefined;
  p.source(generator((i) => simulatedAction(i, start), { ratePerSecond: Number(process.env.SIM_RATE ?? 20), count }))
    .sink(kafka.sink<UserAction>({ topic: process.env.USER_ACTION_TOPIC ?? 'user_action', format: 'json' }));
}, { mode: 'streaming' });
