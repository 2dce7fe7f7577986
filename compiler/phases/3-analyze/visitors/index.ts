/** The visitor table: one entry per node kind that needs analysis. */
import type { NodeKind } from '../../../../runtime/api/graph.ts';
import type { Visitor } from '../context.ts';
import { AsyncMap } from './AsyncMap.ts';
import { Connector } from './Connector.ts';
import { Filter } from './Filter.ts';
import { FlatMap } from './FlatMap.ts';
import { KeyBy } from './KeyBy.ts';
import { Map } from './Map.ts';
import { Process } from './Process.ts';
import { RollingAggregate } from './RollingAggregate.ts';
import { AssignTimestamps } from './AssignTimestamps.ts';
import { CoFlatMap } from './CoFlatMap.ts';
import { CoMap } from './CoMap.ts';
import { IntervalJoin } from './IntervalJoin.ts';
import { KeyedProcess } from './KeyedProcess.ts';
import { Window } from './Window.ts';
import { WindowJoin } from './WindowJoin.ts';

/** Visitors by node kind; kinds without an entry need no analysis (union, rebalance, sideOutput). */
export const visitors: { [K in NodeKind]?: Visitor<K> } = {
  source: Connector,
  sink: Connector,
  map: Map,
  filter: Filter,
  flatMap: FlatMap,
  asyncMap: AsyncMap,
  keyBy: KeyBy,
  process: Process,
  rollingAggregate: RollingAggregate,
  assignTimestamps: AssignTimestamps,
  window: Window,
  windowAll: Window,
  keyedProcess: KeyedProcess,
  coMap: CoMap,
  coProcess: KeyedProcess,
  coFlatMap: CoFlatMap,
  windowJoin: WindowJoin,
  intervalJoin: IntervalJoin,
};
