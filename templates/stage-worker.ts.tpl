// pipec worker for stage {{STAGE_ID}} of pipeline '{{PIPELINE}}' — generated from {{SOURCE}}; do not edit.
// Runs one stage: `node stage-{{STAGE_ID}}.mjs --help` lists its options.
import { {{RUNNER}} } from '{{RUNNER_MODULE}}';
import definition from '{{PIPELINE_IMPORT}}';
import { stage{{STAGE_ID}} } from './stage-{{STAGE_ID}}.ts';

const manifest = {{MANIFEST}};

await {{RUNNER}}(definition, stage{{STAGE_ID}}, manifest, process.argv.slice(2));
