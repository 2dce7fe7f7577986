/**
 * The context object of a non-keyed ProcessFunction. Its `emit` is the
 * generated continuation of the chain and `output` routes side-output tags to
 * the generated functions of the getSideOutput streams that read them.
 */
import type { Context, OutputTag } from '../../api/functions.ts';
import type { StageEnv } from '../stage.ts';

/** A reusable context: the generated code sets `timestamp` before each call; the runtime sets `currentWatermark`. */
export interface MutableContext<O> extends Context<O> { timestamp: number | undefined; currentWatermark: number }

/** Builds the context for one process node. */
export function processContext<O>(env: StageEnv, nodeId: number, emit: (value: O, ts: number | undefined) => void, sideOutputs: Record<string, (value: unknown, ts: number | undefined) => void>): MutableContext<O> {
  const ctx: MutableContext<O> = {
    timestamp: undefined,
    currentWatermark: -Infinity,
    metrics: env.metrics(nodeId),
    emit: (value: O) => emit(value, ctx.timestamp),
    output: <S>(tag: OutputTag<S>, value: S) => env.sideOutput(tag.name, sideOutputs[tag.name], value, ctx.timestamp),
  };
  return ctx;
}
