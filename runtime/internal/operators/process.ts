/**
 * The context object of a non-keyed ProcessFunction. Its `emit` is the
 * generated continuation of the chain and `output` routes side-output tags to
 * the generated functions of the getSideOutput streams that read them.
 */
import type { Context, Metrics, OutputTag } from '../../api/functions.ts';
import type { StageEnv } from '../stage.ts';

const noMetrics: Metrics = { counter: () => ({ inc: () => undefined }), gauge: () => ({ set: () => undefined }) };

/** A reusable context: the generated code sets `timestamp` before each call. */
export interface MutableContext<O> extends Context<O> { timestamp: number | undefined }

/** Builds the context for one process node. */
export function processContext<O>(env: StageEnv, emit: (value: O, ts: number | undefined) => void, sideOutputs: Record<string, (value: unknown, ts: number | undefined) => void>): MutableContext<O> {
  const ctx: MutableContext<O> = {
    timestamp: undefined,
    currentWatermark: -Infinity,
    metrics: noMetrics,
    emit: (value: O) => emit(value, ctx.timestamp),
    output: <S>(tag: OutputTag<S>, value: S) => {
      const target = sideOutputs[tag.name];
      if (target) target(value, ctx.timestamp);
      else env.unreadSideOutput(tag.name);
    },
  };
  return ctx;
}
