/**
 * `pipec/internal`: what generated stage code calls. Generated modules import
 * it as one namespace (`import * as rt from 'pipec/internal'`), so a reader can
 * see exactly which runtime functions a stage uses. Connectors are separate
 * modules (`pipec/internal/connectors/<name>`) so a bundle links only its own.
 */
export type { StageDefinition, StageEnv, StageInstance, EdgeInput, EdgeOutput, SinkWriter, AsyncOperator } from './stage.ts';
export type { Manifest } from './manifest.ts';
export { runLocal, runStageWorker } from './run.ts';
export { partitionForKey, keyText, murmur2, invalidTimestamp } from './partitioning.ts';
export { processContext } from './operators/process.ts';
export { windowOperator, keyedProcessOperator, coProcessOperator, asyncWaitOperator } from './operators/factories.ts';
export { windowJoinOperator, intervalJoinOperator } from './operators/joins.ts';
export { LocalJob, type LocalJobOptions } from './local/job.ts';
export { KeyedStateBackend, keyGroupOf, MAX_PARALLELISM, type KeyedStateSnapshot } from './state/backend.ts';
export { InternalTimerService } from './state/timers.ts';
export { ManualTime, systemTime, type ProcessingTimeService } from './time.ts';
export { WatermarkCoordinator, WatermarkGenerator, type WatermarkTopology } from './watermarks.ts';
export { copy, copying, withField } from './records.ts';
export { rollingMin, rollingMax, rollingMinBy, rollingMaxBy } from './operators/rolling.ts';
