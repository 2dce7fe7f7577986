// Sessions per user: clicks more than 30 s apart start a new session; each
// session reports its span, its number of clicks and the pages visited.
//
//   npx pipec run dsl-examples/user-sessions.ts
import { pipeline, file, print, windows, type AggregateFunction } from 'pipec';

interface Click { user: string; ts: number; url: string }
interface SessionAcc { clicks: number; pages: string[] }

/** Counts clicks and distinct pages; merge() lets sessions that grow together combine. */
const sessionSummary: AggregateFunction<Click, SessionAcc, SessionAcc> = {
  createAccumulator: () => ({ clicks: 0, pages: [] }),
  add: (click, acc) => ({ clicks: acc.clicks + 1, pages: acc.pages.includes(click.url) ? acc.pages : [...acc.pages, click.url] }),
  getResult: (acc) => acc,
  merge: (a, b) => ({ clicks: a.clicks + b.clicks, pages: [...new Set([...a.pages, ...b.pages])] }),
};

export default pipeline('user-sessions', (p) => {
  p.source(file.jsonl<Click>(process.env.CLICKS_INPUT ?? 'dsl-examples/data/clicks.jsonl'))
    .assignTimestamps((c) => c.ts, { maxOutOfOrderness: '5s' })
    .keyBy((c) => c.user)
    .window(windows.session({ gap: '30s' }))
    .aggregate(sessionSummary, (s, { key, window }) => ({ user: key, start: window.start, end: window.end, clicks: s.clicks, pages: [...s.pages].sort() }))
    .sink(print());
});
