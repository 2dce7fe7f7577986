/**
 * Watermarks from the user's own generator (`watermarks.forGenerator`,
 * Flink's WatermarkGenerator): `onEvent(record, timestamp, output)` after
 * each record has gone downstream, and `onPeriodicEmit(output)` every
 * auto-watermark interval of processing time (Flink's
 * pipeline.auto-watermark-interval, 200 ms unless the pipeline sets
 * `autoWatermarkInterval`). What it emits goes to its origin in the stage's
 * WatermarkCoordinator; `withIdleness` is the base class's idleness.
 *
 * Its state is the generator's own enumerable data fields. They are kept in
 * the assignTimestamps node's keyed state backend (table `generator`), as a
 * view whose `fields` getter reads them when a checkpoint serializes the entry,
 * so they are checkpointed and restored like every other state; each call into
 * the generator marks the entry as changed. Fields in a closure or #private
 * are not seen (and not restored).
 *
 * In: the user's factory, records and their timestamps, the clock. Out:
 * watermarks and idleness of the node's origin.
 */
import { parseDuration } from '../api/duration.ts';
import type { Graph } from '../api/graph.ts';
import type { WatermarkGenerator as UserGenerator, WatermarkOutput } from '../api/watermarks.ts';
import type { KeyedStateBackend } from './state/backend.ts';
import type { ProcessingTimeService } from './time.ts';
import { WatermarkGenerator, type WatermarkCoordinator } from './watermarks.ts';

/** The key of the generator's entry in its node's backend (one generator per node and instance). */
const STATE_KEY = 'generator';

/** The default auto-watermark interval, as Flink's. */
export const DEFAULT_AUTO_WATERMARK_INTERVAL = 200;

/** How often a pipeline's user generators emit periodically (ms). */
export function autoWatermarkInterval(graph: Graph): number {
  const interval = graph.options.autoWatermarkInterval;
  return interval === undefined ? DEFAULT_AUTO_WATERMARK_INTERVAL : parseDuration(interval);
}

/** A checkpointed generator's entry: its data fields, read when serialized. */
interface GeneratorState { readonly fields: Record<string, unknown> }

/** A generator's own enumerable fields that hold data (methods and other functions are not state). */
function dataFields(generator: object): Record<string, unknown> {
  const fields: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(generator)) if (typeof value !== 'function') fields[name] = value;
  return fields;
}

/** Watermarks from a user generator. */
export class UserWatermarkGenerator extends WatermarkGenerator {
  private readonly generator: UserGenerator<unknown>;
  private readonly state: Map<unknown, GeneratorState>;
  private readonly view: GeneratorState;
  private readonly output: WatermarkOutput;
  private periodic: (() => void) | null = null;
  private closed = false;

  constructor(
    origin: string,
    coordinator: WatermarkCoordinator,
    factory: () => UserGenerator<unknown>,
    idleTimeout: number | undefined,
    time: ProcessingTimeService,
    batch: boolean,
    backend: KeyedStateBackend,
    private readonly interval: number,
    private readonly stopped: AbortSignal,
  ) {
    super(origin, coordinator, 0, idleTimeout, time, batch);
    const generator = factory();
    if (!generator || typeof generator.onEvent !== 'function' || typeof generator.onPeriodicEmit !== 'function') {
      throw new TypeError('watermarks.forGenerator(factory): the factory must return an object with onEvent(event, timestamp, output) and onPeriodicEmit(output)');
    }
    this.generator = generator;
    this.state = backend.table<GeneratorState>('generator');
    const view = {} as GeneratorState;
    Object.defineProperty(view, 'fields', { enumerable: true, get: () => dataFields(generator) });
    this.view = view;
    this.output = {
      emitWatermark: (watermark) => { if (typeof watermark === 'number' && !Number.isNaN(watermark)) coordinator.advance(origin, watermark); },
      markIdle: () => coordinator.setIdle(origin, true),
      markActive: () => coordinator.setIdle(origin, false),
    };
    if (!batch) this.schedule();
  }

  override onEvent(timestamp: number, record?: unknown): void {
    if (this.batch) return;
    this.activity();
    this.touch();
    if (timestamp > this.maxTimestamp) this.maxTimestamp = timestamp;
    this.generator.onEvent(record, timestamp, this.output);
  }

  /** Raises the watermark by hand (pipec/testing): the generator's own state is left alone. */
  override advanceTo(watermark: number): void {
    this.coordinator.advance(this.origin, watermark);
  }

  /** The input ended: no more periodic calls. */
  override close(): void {
    this.closed = true;
    this.periodic?.();
    this.periodic = null;
  }

  /**
   * Marks the state entry as changed (the generator is about to run), after
   * taking over the fields a restore put there: restores happen after the
   * generator was made, and before its first call.
   */
  private touch(): void {
    const current = this.state.get(STATE_KEY);
    if (current === this.view) return;
    if (current && typeof current.fields === 'object' && current.fields !== null) Object.assign(this.generator, current.fields);
    this.state.set(STATE_KEY, this.view);
  }

  private schedule(): void {
    this.periodic = this.time.schedule(this.time.now() + this.interval, () => {
      this.periodic = null;
      if (this.closed || this.stopped.aborted) return;
      this.touch();
      this.generator.onPeriodicEmit(this.output);
      this.schedule();
    });
  }
}
