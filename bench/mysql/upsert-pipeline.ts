// npm run bench -- mysql: BENCH_RECORDS generated rows upserted into BENCH_DB.bench_upsert by
// mysql.upsert in batches of 1,000 (bench/mysql/index.ts times it against plain.ts).
import { pipeline, generator, mysql } from 'pipec';

interface Row { id: number; v: string; n: number }
const round = process.env.BENCH_ROUND ?? '0';

export default pipeline('bench-mysql-upsert', (p) => {
  p.source(generator<Row>((i) => ({ id: i, v: `r${round}-${i}`, n: i % 97 }), { count: Number(process.env.BENCH_RECORDS ?? 100_000) }))
    .sink(mysql.upsert<Row>({ table: `${process.env.BENCH_DB ?? 'bench'}.bench_upsert`, key: ['id'], batchSize: 1000 }));
});
