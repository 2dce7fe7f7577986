/**
 * Event time inside one stage instance. Watermarks start at origins — an
 * assignTimestamps generator (`ts:<node>`), a source without timestamps
 * (`source:<node>`, -∞ until it ends), an incoming edge (`edge:<id>`, the
 * minimum over its upstream channels), or an asyncMap (`async:<node>`, its
 * input's watermark held back behind the calls in flight before it, raised
 * by the operator alone, also at the end of input) — and every operator that needs event
 * time, and every outgoing edge, sees the minimum over the origins upstream of
 * it, leaving out idle ones (Flink's StatusWatermarkValve). The compiler
 * computes which origins feed what (WatermarkTopology); this class keeps the
 * values and calls operators in topological order when their watermark rises.
 */
import type { ProcessingTimeService } from './time.ts';

/** Which origins feed each event-time operator and each outgoing edge of a stage (from the compiler). */
export interface WatermarkTopology {
  origins: string[];
  consumers: Array<{ node: number; origins: string[] }>;
  outputs: Array<{ edge: string; origins: string[] }>;
}

/** A coordinator's state in a checkpoint (JSON-free: ±∞ survive structured serialization). */
export interface CoordinatorSnapshot {
  origins: Array<[string, number, boolean]>;
  inputs: Array<[string, Array<[number, boolean]>]>;
  consumers: Array<[number, number]>;
  outputs: Array<[string, number, boolean]>;
}

interface OriginState { watermark: number; idle: boolean; consumers: Consumer[]; outputs: Output[] }
interface Channel { watermark: number; idle: boolean }
interface Consumer { node: number; origins: OriginState[]; current: number; idle: boolean; onWatermark: ((wm: number) => void) | null; onIdle: ((idle: boolean) => void) | null }

/** Whether an origin is raised by its operator alone (an asyncMap holds its input's watermark back behind its calls in flight). */
function isHeldOrigin(id: string): boolean {
  return id.startsWith('async:');
}
interface Output { edge: string; origins: OriginState[]; current: number; idle: boolean }

/** Watermark bookkeeping of one stage instance. */
export class WatermarkCoordinator {
  private readonly origins = new Map<string, OriginState>();
  private readonly inputs = new Map<string, { channels: Channel[]; origin: OriginState }>();
  private readonly consumers: Consumer[];
  private readonly outputs: Output[];

  constructor(topology: WatermarkTopology, private readonly send: (edge: string, watermark: number | 'idle' | 'active') => void) {
    for (const id of topology.origins) this.origins.set(id, { watermark: -Infinity, idle: false, consumers: [], outputs: [] });
    const states = (ids: string[]) => ids.map((id) => this.origins.get(id)!);
    this.consumers = topology.consumers.map((c) => ({ node: c.node, origins: states(c.origins), current: -Infinity, idle: false, onWatermark: null, onIdle: null }));
    this.outputs = topology.outputs.map((o) => ({ edge: o.edge, origins: states(o.origins), current: -Infinity, idle: false }));
    // Each origin knows what depends on it, so a rising origin recomputes only those (consumers stay in topological order).
    for (const c of this.consumers) for (const o of c.origins) o.consumers.push(c);
    for (const out of this.outputs) for (const o of out.origins) o.outputs.push(out);
  }

  /** Registers the operator callback of an event-time consumer, and optionally one told when all of its inputs go idle or one is active again. */
  register(node: number, onWatermark: (wm: number) => void, onIdle?: (idle: boolean) => void): void {
    const consumer = this.consumers.find((c) => c.node === node);
    if (!consumer) throw new Error(`internal: node ${node} is not an event-time consumer of this stage`);
    consumer.onWatermark = onWatermark;
    consumer.onIdle = onIdle ?? null;
  }

  /** The current watermark of a consumer node. */
  watermarkOf(node: number): number {
    return this.consumers.find((c) => c.node === node)?.current ?? -Infinity;
  }

  /** Declares how many upstream instances feed an input edge. */
  setChannels(edge: string, count: number): void {
    const origin = this.origins.get(`edge:${edge}`);
    if (!origin) throw new Error(`internal: edge ${edge} is not a watermark origin of this stage`);
    this.inputs.set(edge, { channels: Array.from({ length: count }, () => ({ watermark: -Infinity, idle: false })), origin });
  }

  /** An origin's watermark rose (values that do not rise are ignored: watermarks never go back). */
  advance(origin: string, watermark: number): void {
    const state = this.origins.get(origin);
    if (!state) throw new Error(`internal: unknown watermark origin ${origin}`);
    this.raise(state, watermark);
  }

  private raise(state: OriginState, watermark: number): void {
    if (watermark <= state.watermark && !state.idle) return;
    state.idle = false;
    if (watermark > state.watermark) state.watermark = watermark;
    this.propagate(state);
  }

  /** An origin became idle (no records for idleTimeout) or active again. */
  setIdle(origin: string, idle: boolean): void {
    const state = this.origins.get(origin)!;
    if (state.idle === idle) return;
    state.idle = idle;
    this.propagate(state);
  }

  /** A watermark or status from upstream instance `channel` of an input edge. */
  onEdge(edge: string, channel: number, message: number | 'idle' | 'active'): void {
    const input = this.inputs.get(edge);
    if (!input) throw new Error(`internal: unknown input edge ${edge}`);
    const ch = input.channels[channel];
    if (message === 'idle') ch.idle = true;
    else if (message === 'active') ch.idle = false;
    else if (message > ch.watermark) { ch.watermark = message; ch.idle = false; }
    else return;
    let min = Infinity;
    let max = -Infinity;
    let active = false;
    for (const c of input.channels) {
      if (c.watermark > max) max = c.watermark;
      if (!c.idle) { active = true; if (c.watermark < min) min = c.watermark; }
    }
    const state = input.origin;
    const wasIdle = state.idle;
    if (!active && !wasIdle && max > state.watermark) {
      // Every channel went idle: first the largest watermark among them goes downstream (Flink's
      // StatusWatermarkValve), so what the last active channels promised is not lost, then the idleness.
      state.watermark = max;
      this.propagate(state);
    }
    state.idle = !active;
    if (active && min > state.watermark) state.watermark = min;
    else if (wasIdle === state.idle) return;
    this.propagate(state);
  }

  /** Everything a checkpoint keeps: origins, input channels, and what consumers and outputs have seen. */
  snapshot(): CoordinatorSnapshot {
    return {
      origins: [...this.origins].map(([id, o]) => [id, o.watermark, o.idle]),
      inputs: [...this.inputs].map(([edge, input]) => [edge, input.channels.map((c) => [c.watermark, c.idle])]),
      consumers: this.consumers.map((c) => [c.node, c.current]),
      outputs: this.outputs.map((o) => [o.edge, o.current, o.idle]),
    };
  }

  /**
   * Restores a snapshot taken by the same stage, then tells each event-time
   * operator its watermark (timers at or before it fired before the checkpoint
   * and are gone, so nothing fires twice).
   */
  restore(snapshot: CoordinatorSnapshot): void {
    for (const [id, watermark, idle] of snapshot.origins) {
      const o = this.origins.get(id);
      if (o) { o.watermark = watermark; o.idle = idle; }
    }
    for (const [edge, channels] of snapshot.inputs) {
      const input = this.inputs.get(edge);
      if (input && input.channels.length === channels.length) channels.forEach(([watermark, idle], i) => { input.channels[i] = { watermark, idle }; });
    }
    for (const [edge, current, idle] of snapshot.outputs) {
      const o = this.outputs.find((x) => x.edge === edge);
      if (o) { o.current = current; o.idle = idle; }
    }
    for (const [node, current] of snapshot.consumers) {
      const c = this.consumers.find((x) => x.node === node);
      if (c && current > c.current) { c.current = current; c.onWatermark?.(current); }
    }
  }

  /**
   * End of every input: every origin goes to +∞ (every window fires, every
   * event timer runs), except held ones, which their operators raise once
   * what they hold back has left.
   */
  endAll(): void {
    const ending = [...this.origins].filter(([id]) => !isHeldOrigin(id)).map(([, state]) => state);
    for (const state of ending) { state.watermark = Infinity; state.idle = false; }
    for (const state of ending) this.propagate(state);
  }

  private static minimum(origins: OriginState[]): number | null {
    let min = Infinity;
    let any = false;
    for (const o of origins) if (!o.idle) { any = true; if (o.watermark < min) min = o.watermark; }
    return any ? min : null;
  }

  private propagate(changed: OriginState): void {
    for (const consumer of changed.consumers) {
      const wm = WatermarkCoordinator.minimum(consumer.origins);
      if (consumer.onIdle && (wm === null) !== consumer.idle) {
        consumer.idle = wm === null;
        consumer.onIdle(consumer.idle);
      }
      if (wm !== null && wm > consumer.current) {
        consumer.current = wm;
        consumer.onWatermark?.(wm);
      }
    }
    for (const output of changed.outputs) {
      const wm = WatermarkCoordinator.minimum(output.origins);
      if (wm === null) {
        if (!output.idle && output.origins.length) { output.idle = true; this.send(output.edge, 'idle'); }
        continue;
      }
      if (output.idle) { output.idle = false; this.send(output.edge, 'active'); }
      if (wm > output.current) { output.current = wm; this.send(output.edge, wm); }
    }
  }
}

/**
 * Bounded out-of-orderness watermarks (Flink's BoundedOutOfOrdernessWatermarks):
 * watermark = max timestamp − maxOutOfOrderness − 1, emitted after the record that
 * raises it. Marks its origin idle after idleTimeout of processing time without
 * records (counted from its start too). In batch mode it emits nothing: the only watermark is +∞ at the end.
 */
export class WatermarkGenerator {
  protected maxTimestamp = -Infinity;
  private lastRecordAt = 0;
  private idleCheck: (() => void) | null = null;
  private idle = false;

  constructor(
    protected readonly origin: string,
    protected readonly coordinator: WatermarkCoordinator,
    private readonly maxOutOfOrderness: number,
    private readonly idleTimeout: number | undefined,
    protected readonly time: ProcessingTimeService,
    protected readonly batch: boolean,
  ) {
    // An input that never sends a record goes idle too, after idleTimeout (Flink's WatermarksWithIdleness).
    if (!batch && idleTimeout !== undefined) {
      this.startCheck = time.schedule(time.now() + idleTimeout, () => {
        this.startCheck = null;
        this.idle = true;
        coordinator.setIdle(origin, true);
      });
    }
  }
  private startCheck: (() => void) | null = null;

  /** Called after each record with its timestamp has gone downstream (and the record, for generators that look at it). */
  onEvent(timestamp: number, _record?: unknown): void {
    if (this.batch) return;
    this.activity();
    if (timestamp > this.maxTimestamp) {
      this.maxTimestamp = timestamp;
      this.coordinator.advance(this.origin, timestamp - this.maxOutOfOrderness - 1);
    }
  }

  /** A record arrived: with an idle timeout, the input is active (again) and the idleness check restarts. */
  protected activity(): void {
    if (this.idleTimeout === undefined) return;
    if (this.startCheck) { this.startCheck(); this.startCheck = null; }
    this.lastRecordAt = this.time.now();
    if (this.idle) { this.idle = false; this.coordinator.setIdle(this.origin, false); }
    if (!this.idleCheck) this.scheduleIdleCheck(this.lastRecordAt + this.idleTimeout);
  }

  /** Stops the generator's processing-time callbacks (the end of its input; nothing for this one). */
  close(): void {}

  /** The largest timestamp seen (checkpointed; the origin's watermark is restored by the coordinator). */
  get maxSeen(): number { return this.maxTimestamp; }
  set maxSeen(value: number) { this.maxTimestamp = value; }

  /** Raises the watermark by hand (pipec/testing). */
  advanceTo(watermark: number): void {
    this.maxTimestamp = Math.max(this.maxTimestamp, watermark + this.maxOutOfOrderness + 1);
    this.coordinator.advance(this.origin, watermark);
  }

  private scheduleIdleCheck(at: number): void {
    this.idleCheck = this.time.schedule(at, () => {
      this.idleCheck = null;
      const due = this.lastRecordAt + this.idleTimeout!;
      if (this.time.now() >= due) { this.idle = true; this.coordinator.setIdle(this.origin, true); }
      else this.scheduleIdleCheck(due);
    });
  }
}
