/**
 * The context object of a non-keyed ProcessFunction. Its `emit` is the
 * generated continuation of the chain and `output` routes side-output tags to
 * the generated functions of the getSideOutput streams that read them. Both
 * are valid only while the runtime is handing the function a record (or, for
 * keyed functions, a timer): called later, from a setTimeout callback, a
 * promise continuation or open(), they fail the job with a message naming the
 * operator (`outsideCallError`).
 */
import type { Context, OutputTag } from '../../api/functions.ts';
import type { StageEnv } from '../stage.ts';
import { userLocation } from '../errors.ts';

/** A reusable context: the generated code sets `timestamp` before each call; the runtime sets `currentWatermark`. */
export interface MutableContext<O> extends Context<O> { timestamp: number | undefined; currentWatermark: number }

/** The error for ctx.emit / ctx.output called when the operator is not handling a record or a timer. */
export function outsideCallError(env: StageEnv, nodeId: number, method: 'emit' | 'output'): Error {
  // Functions with timers (keyed and two-input process functions) may also emit from onTimer; process and interval-join functions may not.
  const keyed = env.node(nodeId).kind !== 'process' && env.node(nodeId).kind !== 'intervalJoin';
  const calls = keyed ? 'processElement or onTimer' : 'processElement';
  const error = new Error();
  const at = userLocation(error);
  error.message = `ctx.${method} was called in ${env.operatorName(nodeId)}${at ? ` at ${at}` : ''} when no ${calls} call was running ` +
    `(from a timer callback, a promise continuation or open()), so its output would belong to no record. ` +
    `Call ctx.${method} only inside ${calls}${keyed ? '; for output later, register a timer with ctx.timers and emit from onTimer' : ''}.`;
  error.stack = `Error: ${error.message}${error.stack!.slice(error.stack!.indexOf('\n'))}`;
  return error;
}

/** Builds the context for one process node. */
export function processContext<O>(env: StageEnv, nodeId: number, emit: (value: O, ts: number | undefined) => void, sideOutputs: Record<string, (value: unknown, ts: number | undefined) => void>): MutableContext<O> {
  const calls = env.calls;
  const ctx: MutableContext<O> = {
    timestamp: undefined,
    currentWatermark: -Infinity,
    metrics: env.metrics(nodeId),
    emit: (value: O) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'emit')); return; }
      emit(value, ctx.timestamp);
    },
    output: <S>(tag: OutputTag<S>, value: S) => {
      if (calls.depth === 0) { env.fail(outsideCallError(env, nodeId, 'output')); return; }
      env.sideOutput(tag.name, sideOutputs[tag.name], value, ctx.timestamp);
    },
  };
  return ctx;
}
