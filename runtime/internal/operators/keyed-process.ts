/**
 * KeyedProcessOperator and CoProcessOperator: run the user's (Co)ProcessFunction
 * with a context that carries the current key, keyed state, timers, the
 * watermark and side outputs. Event-time timers fire as the watermark passes
 * them (records emitted from onTimer carry the timer's timestamp); processing-time
 * timers fire from the processing-time service.
 */
import type { CoProcessFunction, KeyedContext, KeyedProcessFunction, Metrics, OnTimerContext, OutputTag } from '../../api/functions.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import { keyedStateStore } from '../state/handles.ts';
import { ProcessingTimerDriver, type InternalTimerService } from '../state/timers.ts';
import type { ProcessingTimeService } from '../time.ts';

/** What a keyed process operator needs from the runtime. */
export interface KeyedOperatorContext {
  backend: KeyedStateBackend;
  timers: InternalTimerService;
  time: ProcessingTimeService;
  metrics: Metrics;
  emit(value: unknown, ts: number | undefined): void;
  output(tag: string, value: unknown, ts: number | undefined): void;
}

type MutableContext = { -readonly [P in keyof OnTimerContext<unknown, unknown>]: OnTimerContext<unknown, unknown>[P] };

/** The shared machinery: one mutable context object reused for every call. */
abstract class KeyedOperatorBase {
  protected readonly context: MutableContext;
  private readonly processingTimers: ProcessingTimerDriver;

  constructor(protected readonly op: KeyedOperatorContext, keyed: boolean) {
    const { backend, timers, time } = op;
    const ctx: MutableContext = {
      key: undefined,
      timestamp: undefined,
      currentWatermark: -Infinity,
      timeDomain: 'event',
      metrics: op.metrics,
      state: keyed ? keyedStateStore(backend) : (undefined as never),
      timers: {
        eventTime: (ts) => timers.register('event', backend.currentKey, ts),
        processingTime: (ts) => { timers.register('processing', backend.currentKey, ts); this.processingTimers.schedule(); },
        deleteEventTime: (ts) => timers.delete('event', backend.currentKey, ts),
        deleteProcessingTime: (ts) => timers.delete('processing', backend.currentKey, ts),
        currentProcessingTime: () => time.now(),
      },
      emit: (value) => op.emit(value, ctx.timestamp),
      output: <S>(tag: OutputTag<S>, value: S) => op.output(tag.name, value, ctx.timestamp),
    };
    this.context = ctx;
    this.processingTimers = new ProcessingTimerDriver(timers, time, this.fire('processing'));
  }

  protected abstract onTimer(timestamp: number, ctx: OnTimerContext<unknown, unknown>): void;

  protected setKey(key: unknown, ts: number | undefined): void {
    this.op.backend.currentKey = key;
    this.context.key = key;
    this.context.timestamp = ts;
  }

  private fire(domain: 'event' | 'processing') {
    return (key: unknown, timestamp: number) => {
      this.setKey(key, timestamp);
      this.context.timeDomain = domain;
      this.onTimer(timestamp, this.context);
    };
  }

  /** The watermark rose: run due event-time timers. */
  onWatermark(watermark: number): void {
    this.context.currentWatermark = watermark;
    this.op.timers.advance('event', watermark, this.fire('event'));
  }



  /** Stops processing-time callbacks (end of input or shutdown). */
  protected stopTimers(): void {
    this.processingTimers.stop();
  }
}

/** Flink's KeyedProcessOperator. */
export class KeyedProcessOperator extends KeyedOperatorBase {
  constructor(op: KeyedOperatorContext, private readonly fn: KeyedProcessFunction<unknown, unknown, unknown>) {
    super(op, true);
  }
  /** The user's open(ctx), awaited before the first record. */
  async open(): Promise<void> {
    await this.fn.open?.(this.context as KeyedContext<unknown, unknown>);
  }
  processElement(key: unknown, value: unknown, ts: number | undefined): void {
    this.setKey(key, ts);
    this.fn.processElement(value, this.context as KeyedContext<unknown, unknown>);
  }
  protected onTimer(timestamp: number, ctx: OnTimerContext<unknown, unknown>): void {
    this.fn.onTimer?.(timestamp, ctx);
  }
  /** Stops the timers, then the user's close(). */
  async close(): Promise<void> {
    this.stopTimers();
    await this.fn.close?.();
  }
}

/** A two-input process function; keyed state and timers when both inputs are keyed. */
export class CoProcessOperator extends KeyedOperatorBase {
  constructor(op: KeyedOperatorContext, private readonly fn: CoProcessFunction<unknown, unknown, unknown> & { onTimer?: (ts: number, ctx: OnTimerContext<unknown, unknown>) => void }, keyed: boolean) {
    super(op, keyed);
  }
  /** The user's open(ctx), awaited before the first record. */
  async open(): Promise<void> {
    await this.fn.open?.(this.context);
  }
  processElement1(key: unknown, value: unknown, ts: number | undefined): void {
    this.setKey(key, ts);
    this.fn.processElement1(value, this.context);
  }
  processElement2(key: unknown, value: unknown, ts: number | undefined): void {
    this.setKey(key, ts);
    this.fn.processElement2(value, this.context);
  }
  protected onTimer(timestamp: number, ctx: OnTimerContext<unknown, unknown>): void {
    this.fn.onTimer?.(timestamp, ctx);
  }
  /** Stops the timers, then the user's close(). */
  async close(): Promise<void> {
    this.stopTimers();
    await this.fn.close?.();
  }
}
