/**
 * `pipec/internal`: what generated stage code calls. Generated modules import
 * it as one namespace (`import * as rt from 'pipec/internal'`), so a reader can
 * see exactly which runtime functions a stage uses. Connectors are separate
 * modules (`pipec/internal/connectors/<name>`) so a bundle links only its own.
 */
export type { StageDefinition, StageEnv, StageInstance, EdgeInput, EdgeOutput, SinkWriter, RuntimeManifest } from './stage.ts';
export { runLocal, runStageWorker } from './run.ts';
export { partitionForKey, keyText, murmur2 } from './partitioning.ts';
export { processContext } from './operators/process.ts';
export { rollingMin, rollingMax, rollingMinBy, rollingMaxBy } from './operators/rolling.ts';
