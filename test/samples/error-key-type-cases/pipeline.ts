import { pipeline, collection, print, type DataStream } from 'pipec';

interface Visit { user: string; session: string | null; region?: string; at: Date; mobile: boolean; extra: unknown; raw: any; n: number }
type UserId = string & { readonly __brand: 'UserId' };

const visits: Visit[] = [];

/** A helper keyed by a field whose type is a parameter constrained to string: fine. */
function byId<T extends { id: string; n: number }>(stream: DataStream<T>) {
  return stream.keyBy((r) => r.id);
}

export default pipeline('error-key-type-cases', (p) => {
  const s = p.source(collection(visits));
  s.keyBy((v) => v.session).sum('n').sink(print());                 // PC1004: string | null
  s.keyBy((v) => v.region).sum('n').sink(print());                  // PC1004: string | undefined
  s.keyBy((v) => v.at).sum('n').sink(print());                      // PC1004: Date
  s.keyBy((v) => v.mobile).sum('n').sink(print());                  // PC1004: boolean
  s.keyBy((v) => v.extra).sum('n').sink(print());                   // PC1004: unknown
  s.keyBy((v) => v.raw).sum('n').sink(print());                     // fine: any (records parsed from JSON)
  s.keyBy((v) => v.user as UserId).sum('n').sink(print());          // fine: a branded string
  s.keyBy((v) => v.region ?? 'unknown').sum('n').sink(print());     // fine: string
  byId(s.map((v) => ({ id: v.user, n: v.n }))).sum('n').sink(print());
});
