/**
 * Window joins and coGroups, as Flink builds them (JoinedStreams is a
 * coGroup): both inputs, tagged with their side, go into one WindowOperator
 * whose accumulator keeps each side's elements of a key and window,
 * `[first[], second[]]`. When the window fires, a join calls its function for
 * every pair (first-major, each side in the order its elements were added,
 * pane by pane for sliding windows) and a coGroup calls its function once with
 * both lists, one of which may be empty. Everything else — assigners, panes,
 * session merging, lateness, timers, batch mode, and state in the keyed state
 * backend and timer service — is the WindowOperator's.
 *
 * In: elements of input 1 and 2 with key and timestamp, watermarks. Out:
 * the function's results, each with the window's last timestamp (end − 1).
 */
import type { WindowAssigner } from '../../api/windows.ts';
import type { KeyedStateBackend } from '../state/backend.ts';
import type { InternalTimerService } from '../state/timers.ts';
import type { ProcessingTimeService } from '../time.ts';
import { copy } from '../records.ts';
import { WindowOperator } from './window.ts';
import type { WindowAccumulator } from './window-functions.ts';

/** An element of one side on its way into the window operator. */
interface Tagged { side: 0 | 1; value: unknown }

/** A key's elements in one window (or pane, or session): first side, second side. */
type Sides = [unknown[], unknown[]];

/** The user's join function: one result per pair. */
type JoinFunction = (first: unknown, second: unknown, meta: { key: unknown; window: object }) => unknown;
/** The user's coGroup function: results for both sides' elements. */
type CoGroupFunction = (first: unknown[], second: unknown[], meta: { key: unknown; window: object }) => Iterable<unknown>;

/** Everything a window join needs from the runtime. */
export interface WindowJoinContext {
  function: 'join' | 'coGroup';
  fn: JoinFunction | CoGroupFunction;
  /** Per side: the function may change the records it is given, so each call gets its own copies (they stay in the window). */
  copies: [boolean, boolean];
  assigner: WindowAssigner;
  allowedLateness: number;
  backend: KeyedStateBackend;
  timers: InternalTimerService;
  time: ProcessingTimeService;
  batch: boolean;
  emit(value: unknown, ts: number | undefined): void;
  /** A late element (of either side), dropped and counted. */
  late(): void;
}

/** The accumulator of a join or coGroup: each side's elements, merged side by side. */
export function joinAccumulator(ctx: Pick<WindowJoinContext, 'function' | 'fn' | 'copies'>): WindowAccumulator {
  const [copyFirst, copySecond] = ctx.copies;
  const emit: WindowAccumulator['emit'] = ctx.function === 'join'
    ? (acc, key, window, ts, _wm, out) => {
      const [first, second] = acc as Sides;
      if (first.length === 0 || second.length === 0) return;
      const join = ctx.fn as JoinFunction;
      const meta = { key, window };
      for (const a of first) for (const b of second) out(join(copyFirst ? copy(a) : a, copySecond ? copy(b) : b, meta), ts);
    }
    : (acc, key, window, ts, _wm, out) => {
      const [first, second] = acc as Sides;
      const coGroup = ctx.fn as CoGroupFunction;
      for (const result of coGroup(copyFirst ? copy(first) : first.slice(), copySecond ? copy(second) : second.slice(), { key, window })) out(result, ts);
    };
  return {
    create: () => [[], []] as Sides,
    add: (tagged, acc) => { (acc as Sides)[(tagged as Tagged).side].push((tagged as Tagged).value); return acc; },
    merge: (a, b) => [(a as Sides)[0].concat((b as Sides)[0]), (a as Sides)[1].concat((b as Sides)[1])] as Sides,
    emit,
  };
}

/** A window join or coGroup of one keyed stage instance. */
export class WindowJoinOperator {
  private readonly window: WindowOperator;

  constructor(ctx: WindowJoinContext) {
    this.window = new WindowOperator({
      assigner: ctx.assigner, allowedLateness: ctx.allowedLateness, accumulator: joinAccumulator(ctx),
      backend: ctx.backend, timers: ctx.timers, time: ctx.time, batch: ctx.batch, keyed: true,
      emit: ctx.emit, late: () => ctx.late(),
    });
  }

  /** An element of the first input (`a` in `a.join(b)`). */
  processElement1(key: unknown, value: unknown, ts: number | undefined): void {
    this.window.processElement(key, { side: 0, value } satisfies Tagged, ts);
  }

  /** An element of the second input. */
  processElement2(key: unknown, value: unknown, ts: number | undefined): void {
    this.window.processElement(key, { side: 1, value } satisfies Tagged, ts);
  }

  /** The watermark rose: due windows fire. */
  onWatermark(watermark: number): void {
    this.window.onWatermark(watermark);
  }

  /** End of input: processing-time windows fire too. */
  endOfInput(): void {
    this.window.endOfInput();
  }
}
