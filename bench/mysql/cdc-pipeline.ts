// npm run bench -- mysql: the binlog's changes of BENCH_DB.bench_cdc from the GTID position BENCH_GTID
// (no snapshot) as JSON change events into the topic BENCH_OUT.
import { pipeline, mysql, kafka } from 'pipec';

interface Row { id: number; name: string; qty: number; price: string }

export default pipeline('bench-mysql-cdc', (p) => {
  p.source(mysql.cdc<Row>({ table: `${process.env.BENCH_DB ?? 'bench'}.bench_cdc`, startFrom: { gtid: process.env.BENCH_GTID ?? '' } }))
    .sink(kafka.sink({ topic: process.env.BENCH_OUT ?? 'bench-mysql-cdc', format: 'json' }));
});
