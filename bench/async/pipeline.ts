// The asyncMap benchmark job: BENCH_RECORDS numbers through an asyncMap of
// capacity 100 (ordered) that calls the benchmark's service for each one. The
// service is BENCH_SERVICE: `http` — GET ASYNC_SERVICE/user over keep-alive
// HTTP, answered after 5 ms by a server in the benchmark's process — or
// `timer`, a 5 ms timer in this process (what the operator costs without a
// network stack). The results are counted (a batch job's sum prints the total once, at the end).
import http from 'node:http';
import { pipeline, collection, print } from 'pipec';

const SERVICE = process.env.ASYNC_SERVICE ?? 'http://127.0.0.1:9';
const CAPACITY = Number(process.env.BENCH_CAPACITY ?? 100);
// One keep-alive connection per call in flight, made once and kept.
const agent = new http.Agent({ keepAlive: true, maxSockets: CAPACITY });

function viaHttp(i: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get(`${SERVICE}/user?id=u${i % 100}&order=${i}`, { agent }, (response) => {
      let body = '';
      response.setEncoding('utf8');
      response.on('data', (chunk: string) => { body += chunk; });
      response.on('end', () => resolve(body.length));
    }).on('error', reject);
  });
}

function viaTimer(i: number): Promise<number> {
  return new Promise((resolve) => setTimeout(() => resolve(i % 10), 5));
}

const call = process.env.BENCH_SERVICE === 'timer' ? viaTimer : viaHttp;

export default pipeline('async-bench', (p) => {
  p.source(collection(Array.from({ length: Number(process.env.BENCH_RECORDS ?? 1000) }, (_, i) => i)))
    .asyncMap(call, { capacity: CAPACITY, timeout: '30s' })
    .map((n) => ({ key: 0, results: 1, chars: n }))
    .keyBy((r) => r.key)
    .sum('results')
    .map((r) => `results: ${r.results}`)
    .sink(print());
});
