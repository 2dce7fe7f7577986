import { pipeline, collection, print } from 'pipec';

class Money {
  constructor(readonly cents: number) {}
  format(): string { return (this.cents / 100).toFixed(2); }
}

export default pipeline('error-record-cannot-cross', (p) => {
  p.source(collection([{ user: 'a', cents: 120 }, { user: 'b', cents: 80 }]))
    .map((o) => ({ user: o.user, total: new Money(o.cents), label: () => o.user.toUpperCase() }))
    .keyBy((o) => o.user)
    .reduce((a, b) => ({ ...b, total: new Money(a.total.cents + b.total.cents) }))
    .sink(print());
});
