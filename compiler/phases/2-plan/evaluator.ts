/**
 * The evaluator: the program the plan phase runs in a child process. Its main
 * thread supervises (supervisor.ts); in a worker thread, this file imports the
 * bundled pipeline module, runs its build function with call-site capture on,
 * and sends the graph back as plain data, with anything the module left open.
 *
 * In (worker): one EvaluateRequest from the supervisor. Out: WorkerMessages.
 */
import { pathToFileURL } from 'node:url';
import { isMainThread, parentPort } from 'node:worker_threads';
import { instantiateGraph, isPipeline } from '../../../runtime/api/pipeline.ts';
import { setCallSiteCapture } from '../../../runtime/api/graph.ts';
import { toLogicalNode } from './nodes.ts';
import { operatorUids } from './uids.ts';
import { OpenResourceTracker } from './open-resources.ts';
import type { EvaluateRequest, EvaluationStage, WorkerMessage } from './protocol.ts';
import { supervise } from './supervisor.ts';

function send(message: WorkerMessage): void {
  parentPort!.postMessage(message);
}

async function evaluate({ bundleFile }: EvaluateRequest): Promise<void> {
  const tracker = new OpenResourceTracker();
  let stage: EvaluationStage = 'load';
  setCallSiteCapture(true);
  tracker.start();
  try {
    const exported = ((await import(pathToFileURL(bundleFile).href)) as { default?: unknown }).default;
    const openAtLoad = await tracker.collect('load');
    if (!isPipeline(exported)) return send({ kind: 'no-pipeline-export', open: openAtLoad });
    stage = 'build';
    send({ kind: 'started-build' });
    const graph = instantiateGraph(exported);
    const open = [...openAtLoad, ...await tracker.collect('build')];
    const uids = operatorUids(graph.nodes);
    send({
      kind: 'planned',
      name: graph.name,
      options: graph.options,
      nodes: graph.nodes.map((node, i) => ({ node: toLogicalNode(node, uids[i], null), frames: node.frames ?? null })),
      open,
    });
  } catch (error) {
    send({ kind: 'threw', stage, message: error instanceof Error ? error.message : String(error), stack: error instanceof Error ? error.stack ?? '' : '' });
  } finally {
    tracker.stop();
  }
}

if (isMainThread) supervise(import.meta.url);
else parentPort!.once('message', (request: EvaluateRequest) => { void evaluate(request); });
