// The record types of `npm run bench -- codec`: the benchmark takes each
// edge's schema from this file through the compiler, as a real build does.
import { pipeline, collection, print } from 'pipec';

/** A click-like record: strings, numbers, a nested object, an array. */
export interface Click {
  ts: number; user: string; sex: 'M' | 'F'; action: 'click' | 'scroll'; count: number;
  page: { url: string; referrer: string; loadMs: number };
  tags: string[];
}

/** A record JSON cannot carry without a replacer and a reviver. */
export interface Rich {
  id: string; at: Date; counts: Map<string, number>; total: bigint; score: number; note?: string;
}

export default pipeline('codec-bench', (p) => {
  p.source(collection<Click>([])).keyBy((c) => c.user).reduce((a) => a).sink(print());
  p.source(collection<Rich>([])).keyBy((r) => r.id).reduce((a) => a).sink(print());
});
