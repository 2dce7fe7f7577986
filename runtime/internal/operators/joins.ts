/**
 * What generated stage code calls to create a join node's operator: the
 * window join or coGroup (WindowJoinOperator) and the interval join
 * (IntervalJoinOperator), with the node's settings as generated literals,
 * the user's function from the graph rebuilt at start-up, and the node's
 * state backend, timers and clock from the StageEnv.
 */
import type { ProcessJoinFunction } from '../../api/functions.ts';
import type { IntervalJoinSpec, WindowJoinSpec } from '../../api/graph.ts';
import type { StageEnv } from '../stage.ts';
import type { Emit, SideOutputs } from './factories.ts';
import { IntervalJoinOperator } from './interval-join.ts';
import { outsideCallError } from './process.ts';
import { WindowJoinOperator } from './window-join.ts';

/** What analysis found about the join function: whether it may change the records of each side (then each call gets copies). */
export interface JoinFunctionPlan { copies: [boolean, boolean] }

/** The operator of a `join(...)` / `coGroup(...)` `.window(...).apply(fn)` node. */
export function windowJoinOperator(env: StageEnv, nodeId: number, spec: WindowJoinSpec, plan: JoinFunctionPlan, emit: Emit): WindowJoinOperator {
  return new WindowJoinOperator({
    function: spec.function, fn: env.fn(nodeId), copies: plan.copies,
    assigner: spec.assigner, allowedLateness: spec.allowedLateness,
    backend: env.backend(nodeId), timers: env.timers(nodeId), time: env.time,
    batch: env.mode === 'batch', emit,
    late: () => env.count(nodeId, 'droppedLateRecords'),
  });
}

/** The operator of an `intervalJoin(...).between(...).process(fn)` node; ctx.emit and ctx.output fail the job outside a call from the runtime. */
export function intervalJoinOperator(env: StageEnv, nodeId: number, spec: IntervalJoinSpec, plan: JoinFunctionPlan, emit: Emit, sideOutputs: SideOutputs): IntervalJoinOperator {
  const calls = env.calls;
  return new IntervalJoinOperator({
    nodeId, spec, fn: env.fn<ProcessJoinFunction<unknown, unknown, unknown, unknown>>(nodeId), copies: plan.copies,
    backend: env.backend(nodeId), timers: env.timers(nodeId), metrics: env.metrics(nodeId),
    emit: (value, ts) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'emit')); return; }
      emit(value, ts);
    },
    output: (tag, value, ts) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'output')); return; }
      env.sideOutput(tag, sideOutputs[tag], value, ts);
    },
    late: () => env.count(nodeId, 'droppedLateRecords'),
  });
}
