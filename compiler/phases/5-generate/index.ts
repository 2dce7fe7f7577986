/**
 * Phase 5, generate: one module per stage with its fused chains, one entry
 * per stage worker and `local.ts` from templates/, the manifest and the
 * deployment files.
 *
 * In: LogicalPlan, PhysicalPlan, Analysis. Out: EmittedPipeline.
 */
import crypto from 'node:crypto';
import path from 'node:path';
import { traitsOf } from '../../../runtime/api/node-traits.ts';
import type { Analysis } from '../../ir/analysis.ts';
import type { EmittedPipeline, GeneratedModule, Manifest } from '../../ir/emitted.ts';
import { connectorOf, type LogicalPlan } from '../../ir/logical-plan.ts';
import type { PhysicalPlan } from '../../ir/physical-plan.ts';
import { pipecVersion, type Host } from '../../host.ts';
import { environmentOf } from './connectors.ts';
import { deploymentFiles } from './deployment.ts';
import { manifestStateOf } from './manifest-state.ts';
import { generateStage, generatedDir } from './stage.ts';
import { template } from './templates.ts';
import { topicFor } from './topics.ts';
import { runsKafkaWorker } from './workers.ts';
import { ANY_SCHEMA } from '../../../runtime/internal/codec/schema.ts';


function connectorsOf(plan: LogicalPlan, nodes: number[]): string[] {
  return [...new Set(nodes.map((n) => connectorOf(plan.nodes[n])).filter((c): c is string => c !== null))].sort();
}

/** Generates every module and file of the build. */
export function generate(host: Host, entryFile: string, plan: LogicalPlan, physical: PhysicalPlan, analysis: Analysis): EmittedPipeline {
  const userFiles = new Set(plan.nodes.map((n) => n.site?.file).filter((f): f is string => !!f));
  const sources = Object.fromEntries([...userFiles].sort().map((f) => [f, host.readFile(path.resolve(host.root, f)) ?? '']));
  const stages = physical.stages.map((stage) => generateStage(plan, physical, analysis, stage, sources));

  const hash = crypto.createHash('sha256').update(JSON.stringify({ plan, physical, pipecVersion }));
  for (const stage of stages) hash.update(stage.code);
  // Edge codecs follow the record types, which can change while the plan and the code stay the same.
  if (analysis.edgeSchemas) hash.update(JSON.stringify(analysis.edgeSchemas));
  if (analysis.columnTypes) hash.update(JSON.stringify(analysis.columnTypes));
  if (analysis.state) hash.update(JSON.stringify(plan.nodes.map((n) => manifestStateOf(analysis.state?.[n.id]))));
  const manifest: Manifest = {
    pipeline: plan.pipeline,
    source: plan.file,
    mode: plan.mode,
    checkpoint: plan.checkpoint,
    guarantee: plan.guarantee,
    pipecVersion,
    stages: physical.stages.map((s) => ({
      id: s.id, file: `stage-${s.id}.mjs`, parallelism: s.parallelism, nodes: s.nodes,
      operators: s.nodes.map((n) => plan.nodes[n].label),
      chains: s.chains.map((c) => c.map((n) => plan.nodes[n].label)),
      inputs: s.inputs, outputs: s.outputs,
      connectors: connectorsOf(plan, s.nodes),
      env: environmentOf(connectorsOf(plan, s.nodes), s.inputs.length + s.outputs.length > 0),
      state: s.nodes.filter((n) => traitsOf(plan.nodes[n].kind).stateful).map((n) => `${plan.nodes[n].label}#${n}`),
      watermarks: s.watermarks,
    })),
    edges: physical.edges.map((e) => ({ id: e.id, from: e.fromStage, to: e.toStage, partitioning: e.partitioning, topic: topicFor(plan.pipeline, e.id), keyNode: e.keyNode, schema: analysis.edgeSchemas?.[e.fromNode] ?? ANY_SCHEMA })),
    // Kinds are checked against the graph a worker rebuilds; labels and call sites name an operator and a line in errors and dead letters.
    nodes: plan.nodes.map((n) => ({
      kind: n.kind, label: n.label, uid: n.uid, site: n.site ? `${n.site.file}:${n.site.line}:${n.site.column}` : null,
      settings: n.kind === 'source' || n.kind === 'sink' ? null : JSON.stringify(n.spec),
      ...manifestStateOf(analysis.state?.[n.id]),
    })),
    ...(analysis.columnTypes ? { columnTypes: analysis.columnTypes } : {}),
    contentHash: hash.digest('hex'),
  };
  const runtimeManifest = JSON.stringify(manifest);
  const dir = generatedDir(plan);
  const pipelineImport = path.posix.relative(dir, plan.file);
  const common = { PIPELINE: plan.pipeline, SOURCE: plan.file, PIPELINE_IMPORT: pipelineImport.startsWith('.') ? pipelineImport : `./${pipelineImport}`, MANIFEST: runtimeManifest };
  const entry = (fileName: string, code: string): GeneratedModule => ({ fileName, code, map: '' });
  const entries = physical.stages.map((s) => ({
    outFile: `stage-${s.id}`,
    module: entry(`stage-${s.id}.worker.ts`, template('stage-worker.ts.tpl', {
      ...common, STAGE_ID: String(s.id),
      // Stages with edges to other stages, or that read only Kafka topics, are Kafka workers (tasks per partition,
      // checkpoints, exactly-once); only their bundles link the Kafka client.
      ...(runsKafkaWorker(plan, s) ? { RUNNER: 'runKafkaStageWorker', RUNNER_MODULE: 'pipec/internal/distributed' } : { RUNNER: 'runStageWorker', RUNNER_MODULE: 'pipec/internal' }),
    })),
  }));
  entries.push({
    outFile: 'local',
    module: entry('local.ts', template('local.ts.tpl', {
      ...common,
      STAGE_IMPORTS: physical.stages.map((s) => `import { stage${s.id} } from './stage-${s.id}.ts';`).join('\n'),
      STAGE_LIST: physical.stages.map((s) => `stage${s.id}`).join(', '),
    })),
  });
  const files = {
    'manifest.json': JSON.stringify(manifest, null, 2) + '\n',
    ...deploymentFiles(plan, physical, manifest),
  };
  return { pipeline: plan.pipeline, entryFile, stages, entries, manifest, files };
}
