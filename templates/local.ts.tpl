// pipec local runner for pipeline '{{PIPELINE}}' — generated from {{SOURCE}}; do not edit.
// Runs every stage in this process with in-memory channels: `node local.mjs [--fail-fast] [--dead-letter file]`.
import { runLocal } from 'pipec/internal';
import definition from '{{PIPELINE_IMPORT}}';
{{STAGE_IMPORTS}}

const manifest = {{MANIFEST}};

await runLocal(definition, [{{STAGE_LIST}}], manifest, process.argv.slice(2));
