/**
 * The asyncMap benchmark's baseline: the same calls without pipec — a
 * hand-written loop that keeps 100 GET requests in flight over the same
 * keep-alive agent until BENCH_RECORDS are answered — run as a child
 * process; prints `{ "ms": ... }`. Its rate is what the machine's HTTP stack
 * allows, the ceiling for the job.
 */
import http from 'node:http';

const url = process.env.ASYNC_SERVICE!;
const records = Number(process.env.BENCH_RECORDS ?? 1000);
const capacity = Number(process.env.BENCH_CAPACITY ?? 100);
const agent = new http.Agent({ keepAlive: true, maxSockets: capacity });
let next = 0, done = 0;
const started = Date.now();

function call(): void {
  if (next >= records) return;
  const i = next++;
  http.get(`${url}/user?id=u${i % 100}&order=${i}`, { agent }, (response) => {
    let body = '';
    response.setEncoding('utf8');
    response.on('data', (chunk: string) => { body += chunk; });
    response.on('end', () => {
      if (body.length === 0) throw new Error('empty answer');
      if (++done === records) { process.stdout.write(JSON.stringify({ ms: Date.now() - started }) + '\n'); agent.destroy(); return; }
      call();
    });
  }).on('error', (error) => { throw error; });
}

for (let k = 0; k < capacity; k++) call();
