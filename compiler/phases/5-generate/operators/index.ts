/** The code generators by node kind (sources are wired by the stage generator, side outputs are continuation heads). */
import type { NodeEmitter } from '../context.ts';
import type { NodeKind } from '../../../../runtime/api/graph.ts';
import { AssignTimestamps } from './AssignTimestamps.ts';
import { CoFlatMap } from './CoFlatMap.ts';
import { AsyncMap } from './AsyncMap.ts';
import { CoMap } from './CoMap.ts';
import { CoProcess } from './CoProcess.ts';
import { Filter } from './Filter.ts';
import { FlatMap } from './FlatMap.ts';
import { IntervalJoin } from './IntervalJoin.ts';
import { KeyBy } from './KeyBy.ts';
import { KeyedProcess } from './KeyedProcess.ts';
import { Map } from './Map.ts';
import { Process } from './Process.ts';
import { Rebalance } from './Rebalance.ts';
import { RollingAggregate } from './RollingAggregate.ts';
import { Sink } from './Sink.ts';
import { Union } from './Union.ts';
import { Window } from './Window.ts';
import { WindowJoin } from './WindowJoin.ts';

export const emitters: { [K in NodeKind]?: NodeEmitter<K> } = {
  map: Map, filter: Filter, flatMap: FlatMap, asyncMap: AsyncMap, keyBy: KeyBy, rebalance: Rebalance, union: Union,
  process: Process, rollingAggregate: RollingAggregate, sink: Sink, assignTimestamps: AssignTimestamps,
  window: Window, windowAll: Window, keyedProcess: KeyedProcess, coMap: CoMap, coProcess: CoProcess,
  coFlatMap: CoFlatMap, windowJoin: WindowJoin, intervalJoin: IntervalJoin,
};
