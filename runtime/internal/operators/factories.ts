/**
 * What generated stage code calls to create the stateful operators of a node:
 * each reads the node's settings from the graph rebuilt at start-up and gets
 * its state backend, timers and clock from the StageEnv.
 */
import type { CoProcessFunction, KeyedProcessFunction } from '../../api/functions.ts';
import type { AsyncMapSpec, WindowSpec } from '../../api/graph.ts';
import type { StageEnv } from '../stage.ts';
import { outsideCallError } from './process.ts';
import { CoProcessOperator, KeyedProcessOperator, type KeyedOperatorContext } from './keyed-process.ts';
import { WindowOperator } from './window.ts';
import { AsyncWaitOperator, type QueuedEntry } from './async-wait.ts';
import { windowAccumulator } from './window-functions.ts';

/** A generated continuation: the rest of the chain after an operator. */
export type Emit = (value: any, ts: number | undefined) => void;
/** Generated continuations of the side outputs read downstream, by tag name. */
export type SideOutputs = Record<string, Emit>;

/** What a (co)process operator's ctx.emit / ctx.output reach; outside a call from the runtime they fail the job (see processContext). */
function keyedContext(env: StageEnv, nodeId: number, emit: Emit, sideOutputs: SideOutputs): KeyedOperatorContext {
  const calls = env.calls;
  return {
    backend: env.backend(nodeId), timers: env.timers(nodeId), time: env.time, metrics: env.metrics(nodeId),
    emit: (value, ts) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'emit')); return; }
      emit(value, ts);
    },
    output: (tag, value, ts) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'output')); return; }
      env.sideOutput(tag, sideOutputs[tag], value, ts);
    },
  };
}

/** The WindowOperator of a window (keyed) or windowAll node, with the settings generated code passes. */
export function windowOperator(env: StageEnv, nodeId: number, spec: WindowSpec, emit: Emit, sideOutputs: SideOutputs): WindowOperator {
  const node = env.node(nodeId);
  const [fn, project] = node.fn as [unknown, ((r: unknown, m: { key: unknown; window: object }) => unknown) | undefined];
  const lateTag = spec.lateDataTag;
  return new WindowOperator({
    assigner: spec.assigner,
    allowedLateness: spec.allowedLateness,
    accumulator: windowAccumulator(spec.function, fn, spec.projected ? project : undefined),
    backend: env.backend(nodeId), timers: env.timers(nodeId), time: env.time,
    batch: env.mode === 'batch',
    keyed: node.kind === 'window',
    emit,
    late: lateTag !== undefined
      ? (value, ts) => env.sideOutput(lateTag, sideOutputs[lateTag], value, ts)
      : () => env.count(nodeId, 'droppedLateRecords'),
    stopped: () => env.stopped,
  });
}

/** The operator of a keyBy(...).process(...) node. */
export function keyedProcessOperator(env: StageEnv, nodeId: number, emit: Emit, sideOutputs: SideOutputs): KeyedProcessOperator {
  return new KeyedProcessOperator(keyedContext(env, nodeId, emit, sideOutputs), env.fn<KeyedProcessFunction<unknown, unknown, unknown>>(nodeId));
}

/** The operator of a connect(...).process(...) node. */
export function coProcessOperator(env: StageEnv, nodeId: number, spec: { keyed: boolean }, emit: Emit, sideOutputs: SideOutputs): CoProcessOperator {
  return new CoProcessOperator(keyedContext(env, nodeId, emit, sideOutputs), env.fn<CoProcessFunction<unknown, unknown, unknown>>(nodeId), spec.keyed);
}

/** The table of an asyncMap's keyed state backend that holds its queue (manifest state `inflight`). */
export const INFLIGHT_TABLE = 'inflight';

/** The AsyncWaitOperator of an asyncMap node, with the settings generated code passes; registered with the job, which drives it. */
export function asyncWaitOperator(env: StageEnv, nodeId: number, spec: AsyncMapSpec, emit: Emit): AsyncWaitOperator {
  const operator = new AsyncWaitOperator({
    fn: env.fn(nodeId),
    spec,
    emit,
    state: env.backend(nodeId).table<QueuedEntry[]>(INFLIGHT_TABLE),
    time: env.time,
    watermark: env.heldWatermark(nodeId),
    enter: (work) => env.asyncEntry(work),
    completed: (position, value, send) => env.completed(nodeId, position, value, send),
    failed: (position, value, error) => env.callFailed(nodeId, position, value, error),
  });
  env.asyncOperator(nodeId, operator);
  return operator;
}
