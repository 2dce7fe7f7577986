import { pipeline, collection, print, type KeyedProcessFunction, type ProcessFunction } from 'pipec';

interface Order { customer: string; amount: number }

// open() and close() may be async (a lookup table loaded at start, a connection closed at the end);
// processElement must return synchronously (PC1005).
const totals: KeyedProcessFunction<string, Order, string> = {
  async open(ctx) {
    await Promise.resolve(ctx.currentWatermark);
  },
  async processElement(order, ctx) {
    ctx.emit(`${order.customer}:${order.amount}`);
  },
  close: async () => {},
};

const labels: ProcessFunction<string, string> = {
  open: async function () {},
  processElement(line, ctx) {
    ctx.emit(line.toUpperCase());
  },
  async close() {},
};

export default pipeline('error-async-process-element', (p) => {
  p.source(collection<Order>([{ customer: 'a', amount: 1 }]))
    .keyBy((o) => o.customer)
    .process(totals)
    .process(labels)
    .sink(print());
});
