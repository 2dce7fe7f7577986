/**
 * Worker-thread side of the in-process runs: receives { file, items } and
 * answers with runInProcess's result. The runner owns the thread and replaces
 * it when a program does not finish in time.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { runInProcess } from './in-process.ts';

const { workDir } = workerData as { workDir: string };
parentPort!.on('message', async (request: { id: number; file: string; items: unknown[][] }) => {
  const result = await runInProcess(request.file, request.items, workDir);
  parentPort!.postMessage({ id: request.id, result });
});
