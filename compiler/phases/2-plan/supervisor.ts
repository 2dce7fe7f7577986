/**
 * The evaluator process's main thread: it runs the pipeline module in a worker
 * thread and stays free itself, so that when the time limit passes it can
 * pause the worker through the inspector (which works while the worker is
 * stuck in a loop) and report where it was. A crash of the worker's heap ends
 * this process, not the compiler.
 *
 * In: one EvaluateRequest from the plan phase (IPC). Out: one Evaluation (IPC).
 */
import { Session } from 'node:inspector';
import { Worker } from 'node:worker_threads';
import type { StackPosition } from '../../../runtime/api/graph.ts';
import type { EvaluateRequest, Evaluation, EvaluationStage, WorkerMessage } from './protocol.ts';

/** How long to wait for the inspector to pause a worker that ran out of time. */
const PAUSE_WAIT_MS = 1_000;

type PausedFrame = { location: { scriptId: string; lineNumber: number; columnNumber: number } };

/** Pauses the worker running `workerUrl` through the inspector and returns its stack, or [] when that is not possible. */
async function pausedStack(workerUrl: string): Promise<StackPosition[]> {
  const session = new Session();
  session.connect();
  const post = (method: string, params: object = {}) => new Promise<unknown>((resolve, reject) => {
    session.post(method, params, (error, result) => (error ? reject(error) : resolve(result)));
  });
  try {
    return await new Promise<StackPosition[]>((resolve) => {
      setTimeout(() => resolve([]), PAUSE_WAIT_MS).unref();
      const urls = new Map<string, string>();
      session.on('NodeWorker.attachedToWorker', ({ params }) => {
        if (params.workerInfo.url !== workerUrl) return;
        let id = 0;
        const send = (method: string) => post('NodeWorker.sendMessageToWorker', { sessionId: params.sessionId, message: JSON.stringify({ id: ++id, method }) });
        session.on('NodeWorker.receivedMessageFromWorker', ({ params: received }) => {
          const message = JSON.parse(received.message) as { method?: string; params?: { scriptId: string; url: string; callFrames: PausedFrame[] } };
          if (message.method === 'Debugger.scriptParsed') urls.set(message.params!.scriptId, message.params!.url);
          if (message.method !== 'Debugger.paused') return;
          resolve(message.params!.callFrames.map(({ location }) => ({ file: urls.get(location.scriptId) ?? '', line: location.lineNumber + 1, column: location.columnNumber + 1 })));
        });
        send('Debugger.enable').then(() => send('Debugger.pause')).catch(() => resolve([]));
      });
      post('NodeWorker.enable', { waitForDebuggerOnStart: false }).catch(() => resolve([]));
    });
  } catch {
    return [];
  } finally {
    session.disconnect();
  }
}

/** Starts the worker at once (it waits for the request), answers one request, and exits. */
export function supervise(workerUrl: string): void {
  const worker = new Worker(new URL(workerUrl));
  let stage: EvaluationStage = 'load';
  let answered = false;
  const answer = (evaluation: Evaluation): void => {
    if (answered) return;
    answered = true;
    // The worker may have left timers or sockets open, or still be looping: the answer is all that matters now.
    process.send!(evaluation, () => process.exit(0));
  };
  worker.on('message', (message: WorkerMessage) => {
    if (message.kind === 'started-build') stage = 'build';
    else answer(message);
  });
  worker.on('error', (error: Error & { code?: string }) => answer(error.code === 'ERR_WORKER_OUT_OF_MEMORY'
    ? { kind: 'stopped', reason: 'ran out of memory' }
    : { kind: 'threw', stage, message: error.message, stack: error.stack ?? '' }));
  worker.on('exit', (code) => answer({ kind: 'stopped', reason: `ended the process (exit code ${code}: process.exit() in the pipeline file, or a top-level await that never settles)` }));
  // The compiler went away (killed, or gave up): nothing is waiting for an answer.
  process.once('disconnect', () => process.exit(0));
  process.once('message', (request: EvaluateRequest) => {
    worker.postMessage(request);
    setTimeout(() => {
      const timedOutIn = stage;
      void pausedStack(workerUrl).then((frames) => answer({ kind: 'timed-out', stage: timedOutIn, limitMs: request.timeLimitMs, frames }));
    }, request.timeLimitMs).unref();
  });
}
