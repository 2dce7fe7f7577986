// pipec worker for stage {{STAGE_ID}} of pipeline '{{PIPELINE}}' — generated from {{SOURCE}}; do not edit.
// Runs one stage: `node stage-{{STAGE_ID}}.mjs [--fail-fast] [--dead-letter file]`.
import { runStageWorker } from 'pipec/internal';
import definition from '{{PIPELINE_IMPORT}}';
import { stage{{STAGE_ID}} } from './stage-{{STAGE_ID}}.ts';

const manifest = {{MANIFEST}};

await runStageWorker(definition, stage{{STAGE_ID}}, manifest, process.argv.slice(2));
